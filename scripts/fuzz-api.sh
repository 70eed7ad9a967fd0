#!/usr/bin/env bash
# Fuzzes the HTTP API from its own OpenAPI document with schemathesis, once per role and once
# without a token, against a live `tenderflow serve` on a fresh SQLite database that holds a
# published tender. Fails on any server error, any answer that violates its documented
# schema, any undocumented status code, content type or header.
#
#   scripts/fuzz-api.sh [path/to/tenderflow] [max examples per operation]
#
# Needs `st` (python3 -m pip install schemathesis). CI runs it from .ci/run.
set -euo pipefail

bin=${1:-${CARGO_TARGET_DIR:-target}/debug/tenderflow}
examples=${2:-25}
data=$(mktemp -d)
log="$data/serve.log"
cleanup() {
    [[ -n "${server:-}" ]] && kill "$server" 2>/dev/null || true
    rm -rf "$data"
}
trap cleanup EXIT

tf() { "$bin" --data-dir "$data" "$@"; }
tf migrate >/dev/null
token() { tf account create --id "$1" --role "$2" --name "$1" --email "$1@example.org" --json |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'; }
declare -A tokens
tokens[staff]=$(token staff-1 staff)
tokens[bidder]=$(token org-1 bidder)
tokens[evaluator]=$(token expert-1 evaluator)
tokens[inspector]=$(token inspector-1 inspector)
tokens[admin]=$(token root admin)

tf serve --listen 127.0.0.1:0 --manual-clock 2026-01-05T09:00:00+08:00 >"$log" 2>&1 &
server=$!
url=""
for _ in $(seq 1 100); do
    url=$(grep -o 'http://127.0.0.1:[0-9]*' "$log" | head -1 || true)
    [[ -n "$url" ]] && break
    sleep 0.1
done
[[ -n "$url" ]] || { echo "the server did not start:"; cat "$log"; exit 1; }

# Something for the operations to find: a published tender with one bid.
call() { curl -sf -X "$1" "$url$2" -H "Authorization: Bearer ${tokens[$3]}" \
    -H 'content-type: application/json' ${4:+-d "$4"} >/dev/null; }
call POST /tenders staff '{"workflow": "partner-recruitment", "tenderId": "T-1"}'
call POST /tenders/T-1/commands staff '{"command": "publish",
  "announcement": {"title": "Venue partners", "summary": "Run services in workers venues.",
                   "eligibility": "Registered organisations.", "contact": "Recruitment team"},
  "channels": ["union-website"], "deadline": "2026-02-20T17:00:00+08:00"}'

checks=not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance
status=0
run() {
    local who=$1; shift
    echo "== schemathesis as $who"
    st run "$url/openapi.json" --checks "$checks" --max-examples "$examples" \
        --phases examples,coverage,fuzzing --workers 1 --no-color --seed 2021 \
        "$@" || status=1
}
run anyone
for role in staff bidder evaluator inspector admin; do
    run "$role" -H "Authorization: Bearer ${tokens[$role]}"
done
exit $status
