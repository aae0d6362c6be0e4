# One image for every role: `parley serve --role api|projector|saga|worker` (deploy/k8s).
# deploy/docker-build-check.sh runs these steps without Docker (CI has none); keep each RUN a
# plain shell command so it can.
FROM node:20-slim

# onnxruntime-node's install script downloads CUDA files: skip it (CPU inference only).
# HOME under /tmp: npm/npx (for an operator's `kubectl exec`) write there; the root filesystem
# is read-only in deploy/k8s.
ENV NODE_ENV=production \
    ONNXRUNTIME_NODE_INSTALL=skip \
    HOME=/tmp \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    PARLEY_HOME=/var/lib/parley

WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY . .

# A non-root user owning only PARLEY_HOME; the code stays root-owned and read-only to it.
RUN groupadd --system --gid 10001 parley \
 && useradd --system --uid 10001 --gid parley --home-dir /var/lib/parley --shell /usr/sbin/nologin parley \
 && mkdir -p /var/lib/parley && chown parley:parley /var/lib/parley
USER 10001:10001

EXPOSE 3000 9464
# `node bin/parley.mjs` is what `npx parley` runs, without npx in between: npx runs the CLI under
# `sh -c` and exits on SIGTERM without passing it on, so as PID 1 it would cut the drain short
# (seen here: SIGTERM to npx left the Parley process running, never told to drain).
ENTRYPOINT ["node", "bin/parley.mjs"]
CMD ["serve"]
