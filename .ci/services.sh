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
exit 0
