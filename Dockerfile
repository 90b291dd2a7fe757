# syntax=docker/dockerfile:1
#
# proxysizer's image. Its default command is the load agent: proxysizer's
# own load engine behind a small HTTP API on port 8077 (`proxysizer load
# --serve :8077`), which in-cluster load generator pods run so that every
# figure of a local run (the intended-start latency, the behind-schedule
# gate, the generator's CPU) exists on a cluster too. Any other command runs
# with arguments: docker run IMAGE plan --help.
#
#   docker build -t REGISTRY/proxysizer:VERSION --build-arg VERSION=VERSION .
#   docker run --rm -p 8077:8077 REGISTRY/proxysizer:VERSION
#   curl localhost:8077/healthz
#
# Stage 1 fetches the HTML report's pinned, checksummed charting script
# (scripts/fetch-echarts.sh, from the npm registry), which the binary
# embeds; stage 2 builds a static binary; the image is distroless, non-root.

ARG GO_VERSION=1.26

FROM node:22-bookworm-slim AS charts
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates openssl \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY scripts/fetch-echarts.sh scripts/
RUN bash scripts/fetch-echarts.sh

FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
COPY --from=charts /src/charts/assets/echarts.min.js charts/assets/echarts.min.js
ARG VERSION=dev
# Static: the engine uses only the kernel's system calls (epoll, timerfd).
RUN CGO_ENABLED=0 go build -trimpath \
    -ldflags "-s -w -X github.com/proxysizer/proxysizer/cmd.version=${VERSION}" \
    -o /out/proxysizer .

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/proxysizer /proxysizer
USER nonroot:nonroot
EXPOSE 8077
ENTRYPOINT ["/proxysizer"]
CMD ["load", "--serve", ":8077"]
