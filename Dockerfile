# syntax=docker/dockerfile:1
# The Cicada image: what the operator's test pods (master and workers) run.
#   docker build -t cicada:0.1.0 .
#   docker run --rm --read-only --tmpfs /tmp cicada:0.1.0 --help
# Multi-stage: the web UI is built with the dev dependencies, the image gets the runtime dependencies only.
# The runtime is distroless (no shell, no package manager, no coreutils): node is at /nodejs/bin/node.
# Read-only root friendly: the app files are owned by root and only read; HOME and TMPDIR are /tmp
# (tsx's compile cache and compiled cicadafiles go there; the pods mount an emptyDir on /tmp).
ARG BUILD_IMAGE=node:20-slim
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs20-debian12:nonroot

# 1. The web UI (dist/ui), built with vite (a dev dependency).
FROM ${BUILD_IMAGE} AS ui
WORKDIR /src
COPY package.json package-lock.json ./
COPY operator/package.json ./operator/package.json
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY ui ./ui
RUN npm run build

# 2. Runtime dependencies only (--ignore-scripts: `prepare` would build the UI, which needs the dev dependencies).
FROM ${BUILD_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY operator/package.json ./operator/package.json
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# 3. The image.
FROM ${RUNTIME_IMAGE}
WORKDIR /app
ENV NODE_ENV=production HOME=/tmp TMPDIR=/tmp
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./package.json
COPY bin ./bin
COPY src ./src
COPY examples ./examples
COPY --from=ui /src/dist/ui ./dist/ui
# The working folder is writable (/tmp, an emptyDir in the pods): reports such as the demo's land there.
WORKDIR /tmp
USER 65532:65532
ENTRYPOINT ["/nodejs/bin/node", "/app/bin/cicada.mjs"]
