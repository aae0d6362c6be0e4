# One image for every role: `npx parley serve --role api|projector|saga|worker` (deploy/k8s).
# deploy/docker-build-check.sh runs these steps without Docker (CI has none); keep each RUN a
# plain shell command so it can.
FROM node:20-slim

# onnxruntime-node's install script downloads CUDA files: skip it (CPU inference only).
# HOME under /tmp: npx writes its cache there, and the root filesystem is read-only in deploy/k8s.
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
ENTRYPOINT ["npx", "parley"]
CMD ["serve"]
