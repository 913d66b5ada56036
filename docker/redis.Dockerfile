# Redis for compose, from Debian's package: builds where only Debian's mirror is reachable.
# Elsewhere any Redis 7 image does (docker.io/library/redis:7); the settings are in compose.yaml.
ARG BASE_IMAGE=debian:trixie-slim
FROM ${BASE_IMAGE}
# The redis user's uid fixed at 999, as the official image's, so runAsUser and volume ownership agree.
RUN set -eux; \
    groupadd --system --gid 999 redis; \
    useradd --system --uid 999 --gid redis --home-dir /var/lib/redis --shell /usr/sbin/nologin redis; \
    apt-get update; \
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server; \
    rm -rf /var/lib/apt/lists/* /var/cache/apt/*; \
    install -d -o redis -g redis /data
USER redis
WORKDIR /data
EXPOSE 6379
CMD ["redis-server", "--bind", "0.0.0.0", "--protected-mode", "no", "--dir", "/data"]
