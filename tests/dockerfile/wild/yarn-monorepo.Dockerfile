FROM node:18 AS base
WORKDIR /repo
COPY package.json yarn.lock ./
COPY packages/api/package.json packages/api/
COPY packages/shared/package.json packages/shared/
COPY packages/web/package.json packages/web/

FROM base AS build
RUN yarn install --frozen-lockfile
COPY . .
RUN yarn workspace @acme/shared build \
    && yarn workspace @acme/api build

FROM node:18-slim AS runtime
WORKDIR /repo
ENV NODE_ENV=production
COPY --from=build /repo/package.json /repo/yarn.lock ./
COPY --from=build /repo/packages/shared/package.json packages/shared/
COPY --from=build /repo/packages/shared/dist packages/shared/dist
COPY --from=build /repo/packages/api/package.json packages/api/
COPY --from=build /repo/packages/api/dist packages/api/dist
RUN yarn install --frozen-lockfile --production
USER node
CMD ["node", "packages/api/dist/index.js"]
