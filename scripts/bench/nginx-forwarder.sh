# Sourced by the benchmark scripts: `nginx_forwarder PORT UPSTREAM DIR` starts nginx (if installed)
# as a plain keep-alive reverse proxy on 127.0.0.1:PORT in front of UPSTREAM (host:port), with its
# config and logs in DIR. It is the peer row next to Tests/Benchmarks/ProxyFloor: one more loopback
# hop through a C proxy, i.e. what the hop itself costs on this machine, apart from any Swift stack.
# Sets nginx_pid (the master) and nginx_worker_pid (the one worker, whose CPU the tables report);
# returns 1 without nginx (`apt-get install nginx-light`).
nginx_forwarder() {
  local port=$1 upstream=$2 dir=$3
  command -v nginx >/dev/null || { echo "scripts/bench: nginx not installed, no nginx row (apt-get install nginx-light)" >&2; return 1; }
  cat > "$dir/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $dir/nginx.pid;
error_log $dir/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  upstream target { server $upstream; keepalive 256; }
  server {
    listen 127.0.0.1:$port;
    location / {
      proxy_pass http://target;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
    }
  }
}
CONF
  nginx -c "$dir/nginx.conf" -p "$dir" & nginx_pid=$!
  nginx_worker_pid=""
  for _ in $(seq 50); do
    nginx_worker_pid=$(pgrep -P "$nginx_pid" | head -1) && [ -n "$nginx_worker_pid" ] && return 0
    sleep 0.1
  done
  echo "scripts/bench: nginx did not start (see $dir/nginx-error.log)" >&2
  return 1
}
