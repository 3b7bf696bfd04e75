#!/usr/bin/env bash
# The example of deploy/redis/README.md on one machine: a redis-server, three tether-ws dev servers
# that keep /reliable's sessions in it (REDIS_URL), and nginx in front of them with plain round
# robin (deploy/redis/nginx.conf, no sticky routing). Everything listens on 127.0.0.1 and writes
# under one temporary directory, removed on exit. Ctrl-C (or SIGTERM) stops all of it.
#
#   npm run build && deploy/redis/run.sh          # then open http://127.0.0.1:8080
#
# Ports, all overridable: LISTEN_PORT (nginx, 8080), REDIS_PORT (6380), SERVER_PORTS ("3001 3002 3003").
# It prints one line per server ("server <port> pid <pid>"), then "ready: <url>" once nginx listens.
set -euo pipefail
cd "$(dirname "$0")/../.."

LISTEN_PORT=${LISTEN_PORT:-8080}
REDIS_PORT=${REDIS_PORT:-6380}
read -r -a SERVER_PORTS <<< "${SERVER_PORTS:-3001 3002 3003}"
NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}

if [ ! -f dist/server/main.js ]; then
  echo "dist/server/main.js is missing: run npm run build first." >&2
  exit 1
fi
if [ "${#SERVER_PORTS[@]}" -ne 3 ]; then
  echo "SERVER_PORTS must name three ports (nginx.conf has three upstreams); got: ${SERVER_PORTS[*]}" >&2
  exit 1
fi
command -v redis-server > /dev/null || { echo "redis-server not found: apt-get install -y redis-server" >&2; exit 1; }
[ -x "$NGINX" ] || { echo "nginx not found: apt-get install -y nginx" >&2; exit 1; }

PREFIX=$(mktemp -d -t tether-redis-XXXXXX)
pids=()
stop_all() {
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill "$pid" 2> /dev/null || true; done
  wait 2> /dev/null || true
  rm -rf "$PREFIX"
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Waits (up to 10 s) until something accepts TCP connections on 127.0.0.1:$1.
wait_for_port() {
  for _ in $(seq 100); do
    if (exec 3<> "/dev/tcp/127.0.0.1/$1") 2> /dev/null; then return 0; fi
    sleep 0.1
  done
  echo "nothing listens on 127.0.0.1:$1 after 10 s; logs are in $PREFIX" >&2
  return 1
}

# AOF with an fsync before every reply: what makes the guarantee survive a Redis restart
# (docs/protocol.md §9, the durability table).
redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$PREFIX" --save '' \
  --appendonly yes --appendfsync always > "$PREFIX/redis.log" 2>&1 &
pids+=($!)
wait_for_port "$REDIS_PORT"

for port in "${SERVER_PORTS[@]}"; do
  # node directly, not npm start: under dash a signal sent to npm stops at the shell.
  PORT=$port HOST=127.0.0.1 REDIS_URL="redis://127.0.0.1:$REDIS_PORT" \
    node dist/server/main.js > "$PREFIX/server-$port.log" 2>&1 &
  pids+=($!)
  echo "server $port pid $!"
done
for port in "${SERVER_PORTS[@]}"; do wait_for_port "$port"; done

sed -e "s#\${TETHER_PREFIX}#$PREFIX#g" -e "s#\${TETHER_LISTEN}#127.0.0.1:$LISTEN_PORT#g" \
  -e "s#\${TETHER_UPSTREAM_A}#127.0.0.1:${SERVER_PORTS[0]}#g" \
  -e "s#\${TETHER_UPSTREAM_B}#127.0.0.1:${SERVER_PORTS[1]}#g" \
  -e "s#\${TETHER_UPSTREAM_C}#127.0.0.1:${SERVER_PORTS[2]}#g" \
  deploy/redis/nginx.conf > "$PREFIX/nginx.conf"
"$NGINX" -e "$PREFIX/error.log" -p "$PREFIX" -c "$PREFIX/nginx.conf" &
nginx_pid=$!
pids+=("$nginx_pid")
wait_for_port "$LISTEN_PORT"
echo "ready: http://127.0.0.1:$LISTEN_PORT (nginx round robin over ${SERVER_PORTS[*]}, sessions in redis 127.0.0.1:$REDIS_PORT; logs in $PREFIX)"

# Runs until nginx exits or a signal arrives. A server that dies (kill one to try it) is not
# restarted: its clients resume their sessions on the other two.
wait "$nginx_pid"
