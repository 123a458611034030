# syntax=docker/dockerfile:1
# tickwire production image on the official Bun image, running as the non-root `bun` user.
ARG BUN_VERSION=1.4.5

FROM oven/bun:${BUN_VERSION}-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only; Bun itself comes from the base image.
RUN bun install --production --frozen-lockfile --ignore-scripts 2>/dev/null || bun install --production --ignore-scripts

FROM oven/bun:${BUN_VERSION}-slim AS runtime
ENV NODE_ENV=production APP_ENV=prod PORT=8080
WORKDIR /app
COPY --from=deps --chown=bun:bun /app/node_modules ./node_modules
COPY --chown=bun:bun package.json tsconfig.json ./
COPY --chown=bun:bun src ./src
COPY --chown=bun:bun drizzle ./drizzle
RUN mkdir -p /app/data && chown bun:bun /app/data
USER bun
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD bun -e "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/health').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"
STOPSIGNAL SIGTERM
CMD ["bun", "src/main.ts"]
