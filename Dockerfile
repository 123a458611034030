# syntax=docker/dockerfile:1
# tickwire production image on the official Bun image.
#
#   docker build -t tickwire .
#   docker run -p 8080:8080 -e JWT_SECRET=... tickwire      # embedded mode (SQLite in /app/data)
#
# Two stages: `deps` installs the production dependencies from the committed lockfile; `runtime`
# holds Bun, those dependencies and the files the server reads at run time (src/, the drizzle/
# migrations, the browser client in public/, the token script). The code belongs to root and is
# read-only to the server, which runs as the image's non-root `bun` user and may write only to
# /app/data (the embedded SQLite file; mount a volume there to keep it).
ARG BUN_VERSION=1.4.5

FROM oven/bun:${BUN_VERSION} AS deps
WORKDIR /app
COPY package.json package-lock.json bunfig.toml ./
# Production dependencies only (Bun itself comes from the base image); no install scripts.
RUN bun install --production --frozen-lockfile --ignore-scripts

FROM oven/bun:${BUN_VERSION}-slim AS runtime
ENV NODE_ENV=production APP_ENV=prod HOST=0.0.0.0 PORT=8080 DATABASE_URL=sqlite:/app/data/tickwire.db
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json bunfig.toml ./
COPY src ./src
COPY drizzle ./drizzle
COPY public ./public
COPY scripts ./scripts
RUN mkdir -p /app/data && chown bun:bun /app/data
USER bun
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD bun -e "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/health').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"
# main.ts drains on SIGTERM: /health turns 503, sockets close with 1001, SSE streams end.
STOPSIGNAL SIGTERM
CMD ["bun", "src/main.ts"]
