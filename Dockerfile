# syntax=docker/dockerfile:1
# The Cicada image: what the operator's test pods (master and workers) run.
#   docker build --build-arg SOURCE_URL="$(git remote get-url origin)" --build-arg REVISION="$(git rev-parse HEAD)" -t cicada:0.1.0 .
#   docker run --rm --read-only --tmpfs /tmp cicada:0.1.0 --help
# Multi-stage: the web UI is built with the dev dependencies, the image gets the runtime dependencies only.
# Node 24 LTS: the build stages on node:24-bookworm-slim, the runtime on distroless nodejs24-debian12 (the same Debian 12,
# so the same glibc); distroless has no shell, no package manager, no coreutils: node is at /nodejs/bin/node.
# The SBOM of the runtime dependencies (CycloneDX 1.6, scripts/sbom.mjs) is made in the build stage from the same
# package-lock.json as the runtime node_modules, and shipped at /app/sbom.cdx.json. No secret enters the build context
# (.dockerignore) and none is passed as a build argument.
# Read-only root friendly: the app files are owned by root and only read; HOME and TMPDIR are /tmp
# (tsx's compile cache and compiled cicadafiles go there; the pods mount an emptyDir on /tmp).
ARG BUILD_IMAGE=node:24-bookworm-slim
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs24-debian12:nonroot

# 1. The web UI (dist/ui), built with vite, and the SBOM, made with @cyclonedx/cyclonedx-npm (both dev dependencies).
FROM ${BUILD_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
COPY operator/package.json ./operator/package.json
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY ui ./ui
RUN npm run build
COPY scripts/sbom.mjs ./scripts/sbom.mjs
RUN node scripts/sbom.mjs /src/sbom.cdx.json

# 2. Runtime dependencies only (--ignore-scripts: `prepare` would build the UI, which needs the dev dependencies).
FROM ${BUILD_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY operator/package.json ./operator/package.json
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# 3. The image.
FROM ${RUNTIME_IMAGE}
# VERSION is package.json's (a test keeps them equal); SOURCE_URL and REVISION come from the build command above.
ARG VERSION=0.1.0
ARG SOURCE_URL=""
ARG REVISION=""
LABEL org.opencontainers.image.title="cicada" \
      org.opencontainers.image.description="Cicada load generator: master and worker of the operator's test pods" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.source="${SOURCE_URL}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="MIT"
WORKDIR /app
ENV NODE_ENV=production HOME=/tmp TMPDIR=/tmp
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./package.json
COPY bin ./bin
COPY src ./src
COPY examples ./examples
COPY --from=build /src/dist/ui ./dist/ui
COPY --from=build /src/sbom.cdx.json ./sbom.cdx.json
# The working folder is writable (/tmp, an emptyDir in the pods): reports such as the demo's land there.
WORKDIR /tmp
USER 65532:65532
ENTRYPOINT ["/nodejs/bin/node", "/app/bin/cicada.mjs"]
