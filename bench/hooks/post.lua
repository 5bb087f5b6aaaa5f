-- wrk script: POST the body in $BODY as JSON; print a machine-readable summary line.
wrk.method = "POST"
wrk.body = os.getenv("BODY") or '{"text":"hello"}'
wrk.headers["Content-Type"] = "application/json"

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRK_JSON {\"requests\":%d,\"duration_us\":%d,\"non2xx\":%d,\"connect\":%d,\"read\":%d,\"write\":%d,\"timeout\":%d,\"p50_us\":%d,\"p99_us\":%d,\"max_us\":%d}\n",
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
