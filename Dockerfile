# One image for every service; choose the service with SERVICE (gateway | enricher | writer | query).
# Services run TypeScript directly with tsx (no separate build output to keep in sync); the web UI is built into
# services/web/dist, which the query service serves at /. deploy/local/prepare.ts is the one-shot step that makes
# topics and tables before the services start (docker-compose.yml's `prepare`, the k8s prepare Job).
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages ./packages
COPY services ./services
COPY tools ./tools
RUN npm install --no-audit --no-fund --loglevel=error

FROM deps AS build
COPY . .
RUN npx tsc -b && npm run build -w @groupscope/web

FROM node:20-bookworm-slim
ENV NODE_ENV=production HTTP_HOST=0.0.0.0
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/package.json /app/tsconfig.base.json ./
COPY --from=build /app/packages ./packages
COPY --from=build /app/services ./services
COPY --from=build /app/tools ./tools
COPY --from=build /app/deploy/local ./deploy/local
COPY --from=build /app/scripts ./scripts
USER node
ARG SERVICE=gateway
ENV SERVICE=${SERVICE}
EXPOSE 8080 8081 8082 8083 8443
CMD ["sh", "-c", "exec node --import tsx services/${SERVICE}/src/main.ts"]
