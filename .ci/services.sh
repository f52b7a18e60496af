#!/usr/bin/env bash
# Starts each local service the test suite talks to if it is not answering.
# Commands from the project brief; every service listens on loopback only.
set -uo pipefail

up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_up() {
  local port=$1 name=$2
  for _ in $(seq 1 60); do up "$port" && return 0; sleep 1; done
  echo "service $name did not come up on 127.0.0.1:$port" >&2
  return 1
}

if ! up 4222; then
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- \
    -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log
  wait_up 4222 nats
fi
if ! up 5672; then
  rabbitmq-server -detached
  wait_up 5672 rabbitmq
fi
if ! up 6379; then
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  wait_up 6379 redis
fi
# etcd (registry tests): Debian's etcd-server, installed only when missing,
# started only when not answering, with its data in a fresh temp dir, loopback only.
if ! up 2379; then
  if ! command -v etcd >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq etcd-server >/dev/null
  fi
  if ! up 2379; then
    etcd_dir=$(mktemp -d /tmp/ferry-etcd.XXXXXX)
    setsid nohup etcd --name ferry-ci --data-dir "$etcd_dir/data" \
      --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
      --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
      --initial-cluster ferry-ci=http://127.0.0.1:2380 >"$etcd_dir/etcd.log" 2>&1 </dev/null &
  fi
  wait_up 2379 etcd
  for _ in $(seq 1 30); do
    curl -sf http://127.0.0.1:2379/health 2>/dev/null | grep -q '"health":"true"' && break
    sleep 1
  done
fi
# openssl, curl and chromium (gRPC TLS tests make throw-away certificates with openssl;
# the Connect tests call the server with curl): installed only when missing.
missing_tools=""
command -v openssl >/dev/null 2>&1 || missing_tools="$missing_tools openssl"
command -v curl >/dev/null 2>&1 || missing_tools="$missing_tools curl"
# iproute2 (ip netns, veth, bridge, tc) for the multi-host tests (test/multihost).
{ command -v ip && command -v tc; } >/dev/null 2>&1 || missing_tools="$missing_tools iproute2"
# Chromium (browser tests drive it with playwright-core, headless).
command -v chromium >/dev/null 2>&1 || missing_tools="$missing_tools chromium"
# gRPC C-core for the interop tests (test/grpc-ccore.spec.ts), in Debian's python3.
/usr/bin/python3 -c "import grpc, grpc_tools" >/dev/null 2>&1 || missing_tools="$missing_tools python3-grpcio python3-grpc-tools"
if [ -n "$missing_tools" ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing_tools >/dev/null
fi
exit 0
