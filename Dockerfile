# Static, cgo-free build of facematch; runs as a non-root user in a
# distroless image (no shell). The models are embedded in the binary.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/facematch ./cmd/facematch

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/facematch /usr/local/bin/facematch
USER nonroot:nonroot
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/facematch", "serve", "--addr", ":8080"]
