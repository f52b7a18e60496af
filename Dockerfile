# syntax=docker/dockerfile:1
#
# The image `ferry k8s` manifests run (docs/deployment.md): the project compiled
# to JavaScript with tsc (src/ and the shop's examples/, same layout as the
# repository, .ts -> .js), production dependencies only, running as the
# unprivileged `node` user (uid 1000). Its entry point is the `ferry` tool:
#   docker build -t ferry-shop:0.1.0 .
# Kubernetes runs it with `run /etc/ferry/topology.json --group G`, the topology
# coming from the generated ConfigMap (its module paths point into /app, .js).

ARG NODE_VERSION=20

# 1. Compile: every dependency (TypeScript is a dev dependency), then tsc.
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY deploy/tsconfig.image.json deploy/
COPY src src
COPY examples examples
RUN npx tsc -p deploy/tsconfig.image.json

# 2. Production dependencies: the package's own, plus the optional peers the
# shop loads (NATS for the registry and broker, PostgreSQL and PGlite for the
# store, the OpenTelemetry SDK for telemetry). Override PEERS for another app.
FROM node:${NODE_VERSION}-bookworm-slim AS deps
ARG PEERS="@nats-io/transport-node@^3.4.0 @nats-io/jetstream@^3.4.0 @nats-io/kv@^3.4.0 pg@^8.23.1 @electric-sql/pglite@^0.5.17 @opentelemetry/resources@^2.12.1 @opentelemetry/sdk-trace-node@^2.12.1 @opentelemetry/sdk-trace-base@^2.12.1 @opentelemetry/sdk-metrics@^2.12.1 @opentelemetry/exporter-prometheus@^0.223.0 @opentelemetry/exporter-trace-otlp-http@^0.223.1 @opentelemetry/exporter-metrics-otlp-http@^0.223.0"
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm install --no-save --omit=dev --ignore-scripts --no-audit --no-fund ${PEERS} \
 && npm cache clean --force

# 3. Runtime: no compiler, no dev dependencies, no npm cache; not root.
FROM node:${NODE_VERSION}-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules node_modules
COPY --from=build /src/build/image ./
COPY package.json ./
USER node
# native, gRPC (and the Kubernetes gRPC probes), HTTP API, Prometheus /metrics
EXPOSE 50052 50051 8080 9464
# SIGTERM goes straight to node (exec form), which deregisters, drains and exits (ferry run).
ENTRYPOINT ["node", "src/cli/main.js"]
CMD ["--help"]
