# syntax=docker/dockerfile:1
# CertFlow application image: one image for the API (default CMD), the worker and the migration job;
# docker-compose.yml picks the role with `command`.

# Node 20 on Debian (glibc): @temporalio/core-bridge ships prebuilt glibc binaries, so no Alpine/musl.
ARG NODE_IMAGE=node:20-bookworm-slim

# ---- build: full dependency tree, compile TypeScript to dist/ ----
FROM ${NODE_IMAGE} AS build
WORKDIR /app
# Manifests first so the dependency layer is cached until package*.json change.
COPY package.json package-lock.json ./
# npm install applies them (postinstall, patch-package): a fix to postgres.js 3.4.9, porsager/postgres#1208.
COPY patches ./patches
RUN npm install --no-audit --no-fund
COPY . .
RUN npm run build && npm run build:workflows

# ---- deps: production dependencies only, kept out of the build stage so devDependencies never ship ----
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
COPY patches ./patches
RUN npm install --omit=dev --no-audit --no-fund && npm cache clean --force

# ---- runtime ----
FROM ${NODE_IMAGE} AS runtime
WORKDIR /app
# HOST=0.0.0.0: the API's default (127.0.0.1) would be unreachable from outside the container.
# DATA_DIR: the only place the processes write (outboxes); created below, owned by the runtime user.
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATA_DIR=/app/data \
    WORKFLOW_BUNDLE_PATH=/app/dist/workflow-bundle.js
# package.json is needed at runtime: its "type": "module" makes Node load dist/*.js as ESM.
COPY package.json package-lock.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# Same layout as the repository: dist/db/migrate.js looks for ../../db/migrations.
COPY db/migrations ./db/migrations
# The pages' sources (browser views, catalogues, style sheet): esbuild bundles them in memory at the first request.
COPY api/web ./api/web
# The CA's PKCS#11 token: Debian's SoftHSM2, its tokens in /var/lib/softhsm/tokens (its default configuration), a
# volume in docker-compose.yml that the key ceremony fills before the worker and the API open their own token.
RUN apt-get update && apt-get install -y --no-install-recommends softhsm2 && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /var/lib/softhsm/tokens && chown node:node /var/lib/softhsm/tokens
# Code stays root-owned (read-only for the app); only DATA_DIR and the token folder are writable. `node` (uid 1000)
# comes with the image.
RUN mkdir -p /app/data && chown node:node /app/data
USER node
EXPOSE 3000
# No HEALTHCHECK here: the same image runs the worker and the migration job, which serve no HTTP;
# docker-compose.yml puts the /healthz check on the api service only.
CMD ["node", "dist/api/main.js"]
