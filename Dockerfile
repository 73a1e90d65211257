# drill as a container image: the CLI and the PostgreSQL 15 server binaries its native provider
# starts (initdb, pg_ctl, postgres, pg_basebackup, and pg_verifybackup, pg_amcheck, pg_checksums
# for the verification steps). Used by the manifests in deploy/ to run drills inside a cluster.
#
#   docker build -t drill:0.1.0 .          (or: podman build / buildah bud -t drill:0.1.0 .)
#
# Not built by this repository's CI: the machine it runs on has no container engine. See README
# "Game days on your cluster".
FROM node:20-bookworm-slim

# postgresql-15 carries the server binaries and amcheck; tini reaps what a killed drill leaves as
# zombies and passes SIGTERM on (a Job's deadline), so drill's own teardown runs. fonts-dejavu-core:
# the slim image has no font, and timeline.png's text is drawn with the system's (resvg).
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-15 tini ca-certificates fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/drill
# The CLI runs TypeScript through tsx, which is a runtime dependency: no build step and no dev
# dependencies: vitest is one too (`drill run` starts one vitest per drill).
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --loglevel=error && npm cache clean --force
COPY bin ./bin
COPY src ./src
COPY sut ./sut
COPY drills ./drills
COPY schema ./schema
COPY tsconfig.json vitest.drill.config.ts ./
RUN ln -s /opt/drill/bin/drill.mjs /usr/local/bin/drill

# Not root: the native provider then runs PostgreSQL as this user (as root it would switch to the
# postgres user). Numeric, so a pod's runAsNonRoot can be checked without reading the image.
# `drill run` starts vitest in /opt/drill for each drill; vite bundles vitest.drill.config.ts into
# node_modules/.vite-temp and vitest keeps its caches in node_modules/.vite and (the transformed
# harness, vitest.drill.config.ts) node_modules/.experimental-vitest-cache, so those three are the
# user's (the rest of /opt/drill stays root's, read-only to the drill).
RUN useradd --uid 10001 --user-group --create-home --home-dir /home/drill drill \
 && install -d -o 10001 -g 10001 /opt/drill/node_modules/.vite /opt/drill/node_modules/.vite-temp /opt/drill/node_modules/.experimental-vitest-cache
USER 10001:10001
ENV HOME=/home/drill \
    NODE_ENV=production
WORKDIR /home/drill
ENTRYPOINT ["/usr/bin/tini", "--", "drill"]
CMD ["--help"]
