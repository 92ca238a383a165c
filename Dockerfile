# Calbridge, production image. Multi-stage: `build` installs and builds with the same
# script CI runs (`npm run build`: pnpm from the lock file, every package built);
# `prod-deps` installs production dependencies only; `runtime` is the built packages and
# those dependencies on a slim Node, run as the unprivileged `node` user with `npm run
# serve`'s script. The suite runs in the build stage, as CI runs it: compose.yaml's `ci`
# profile (`docker compose --profile ci run --rm ci`, which runs `.ci/run`). There is no
# test stage here on purpose: builders without BuildKit build every stage before the
# target, so one would run the whole suite on every `docker build`.
# No `# syntax=` line either: the built-in frontend is enough, and offline builders cannot
# fetch another.
#
#   docker build -t calbridge .
#   docker run --env-file calbridge.env -p 8787:8787 calbridge     (see compose.yaml and README "Deploy")
#   npm run check:image                                             (builds and checks it with compose)

ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
ENV CI=true
# Manifests first: the dependency layer is rebuilt only when they change.
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml tsconfig.base.json ./
COPY scripts ./scripts
COPY shared/package.json shared/
COPY server/package.json server/
COPY widget/package.json widget/
COPY test/package.json test/
COPY admin/package.json admin/
COPY dev-idp/package.json dev-idp/
RUN node -e "import('./scripts/lib.mjs').then((m) => m.ensureDependencies())"
COPY . .
RUN npm run build
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
ENV CI=true
# Production dependencies only, installed fresh from the same lock file with the same pnpm.
COPY --from=build /app/.tools ./.tools
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml ./
COPY shared/package.json shared/
COPY server/package.json server/
COPY widget/package.json widget/
COPY test/package.json test/
RUN .tools/node_modules/.bin/pnpm install --frozen-lockfile --prod --reporter=silent

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    PORT=8787 \
    HOST=0.0.0.0 \
    CALBRIDGE_DATA_DIR=/var/lib/calbridge
# The one thing an instance writes: the webhook spool (verified deliveries waiting out a database
# outage, CALBRIDGE_WEBHOOK_SPOOL_DIR). A volume of its own per instance, writable by `node`.
RUN mkdir -p /var/lib/calbridge && chown node:node /var/lib/calbridge
VOLUME /var/lib/calbridge
WORKDIR /app
# The code is owned by root and read-only to the server; its state is in PostgreSQL.
COPY --from=prod-deps /app/package.json /app/pnpm-workspace.yaml ./
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=prod-deps /app/shared/node_modules ./shared/node_modules
COPY --from=prod-deps /app/server/node_modules ./server/node_modules
COPY --from=build /app/scripts ./scripts
COPY --from=build /app/shared/package.json ./shared/package.json
COPY --from=build /app/shared/dist ./shared/dist
COPY --from=build /app/server/package.json ./server/package.json
COPY --from=build /app/server/dist ./server/dist
COPY --from=build /app/server/migrations ./server/migrations
COPY --from=build /app/widget/dist ./widget/dist
# The console staff sign in to (/admin): static files the server serves (CALBRIDGE_ADMIN_DIR).
COPY --from=build /app/admin/dist ./admin/dist
USER node
EXPOSE 8787
# Ready = the database answers and every migration is applied (GET /readyz); no curl in the slim image.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8787) + '/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
STOPSIGNAL SIGTERM
# What `npm run serve` runs, without npm in between: the server is PID 1 and gets SIGTERM itself.
CMD ["node", "scripts/serve.mjs"]
