#!/bin/bash
# seghub-healthcheck [PORT]: exit 0 when GET /health on 127.0.0.1:PORT answers 200 within 3 s.
# Uses bash's /dev/tcp so that the runtime image needs no curl or wget.
port=${1:-${SEGHUB_PORT:-8080}}
exec 3<>"/dev/tcp/127.0.0.1/$port" || exit 1
printf 'GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' >&3
IFS= read -r -t 3 status <&3 || exit 1
case "$status" in
  "HTTP/1."?" 200 "*) exit 0 ;;
  *) exit 1 ;;
esac
