# Prometheus for compose's monitoring profile, from Debian's package: builds where only
# Debian's mirror is reachable. compose.yaml mounts its config (docker/prometheus.yml) and
# docproc's rules (k8s/monitoring/docproc.rules.yaml) at /etc/docproc.
ARG BASE_IMAGE=debian:trixie-slim
FROM ${BASE_IMAGE}
RUN set -eux; \
    apt-get update; \
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus; \
    rm -rf /var/lib/apt/lists/* /var/cache/apt/*; \
    install -d -o prometheus -g prometheus /prometheus
USER prometheus
EXPOSE 9090
# The scrape's key comes from the environment (DOCPROC_METRICS_KEY), written where the
# scrape config reads it: never baked into the image.
ENTRYPOINT ["/bin/sh", "-c", "printf %s \"$DOCPROC_METRICS_KEY\" > /tmp/metrics-key && exec prometheus --config.file=/etc/docproc/prometheus.yml --storage.tsdb.path=/prometheus --web.listen-address=:9090 \"$@\"", "prometheus"]
