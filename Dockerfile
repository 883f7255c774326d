# The tabby/tabby-node image: tabby-node (the DaemonSet's agent and the route reflector),
# tabby-cni-install (the init container), tabbyctl and tabby-bgp.
#   docker build -t tabby/tabby-node:latest .
# e2e/test/dockerfile.test.ts checks this file statically (no Docker engine runs in the tests).

# --- build: compile the TypeScript and the netlink addon, then drop the dev dependencies ---
FROM node:20-bookworm AS build
WORKDIR /src
# node-gyp builds against the image's own Node headers (no download).
ENV npm_config_nodedir=/usr/local
COPY . .
RUN npm ci && npm run build && npm prune --omit=dev && node scripts/link-bins.mjs

# --- runtime: Node plus what felix and the CNI plugin run: iptables(-restore), ipset, ip (the CNI plugin's thin client is a static C program) ---
FROM node:20-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends iptables ipset iproute2 ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/tabby
COPY --from=build /src/package.json /src/package-lock.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/packages ./packages
COPY --from=build /src/bgp ./bgp
COPY --from=build /src/felix ./felix
COPY --from=build /src/ipam ./ipam
# npm links every bin (tabby-node, tabbyctl, tabby-bgp, tabby-cni-install) here.
ENV PATH=/opt/tabby/node_modules/.bin:$PATH NODE_ENV=production
ENTRYPOINT ["tabby-node"]
