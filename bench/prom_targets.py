#!/usr/bin/env python3
"""Scrape targets for the prometheus receiver benchmark: one asyncio process listening on
PORTS consecutive ports from BASE, each answering every GET with the same fixed exposition
(Prometheus text format 0.0.4) of 1,000 series: the shape of benches/prometheus_parse.rs
(800 counter series by method, code and handler; 2 histograms x 6 routes x 13 series; 44
gauges). The body is built once, so a scrape costs this process one write: it is never the
bottleneck (about 70 scrapes/s of ~60 KB for 1,000 targets at 15 s).
usage: prom_targets.py BASE PORTS"""
import asyncio
import sys


def exposition():
    out = []
    for c in range(4):
        f = f"app_requests_{c}_total"
        out.append(f"# HELP {f} Requests handled.\n# TYPE {f} counter")
        for m in ("GET", "POST", "PUT", "DELETE"):
            for code in ("200", "201", "400", "404", "500"):
                for h in range(10):
                    out.append(f'{f}{{method="{m}",code="{code}",handler="/api/v1/items/{h}"}} {(c + 1) * 1000 + h * 7}')
    for hf in range(2):
        f = f"app_latency_{hf}_seconds"
        out.append(f"# HELP {f} Latency.\n# TYPE {f} histogram")
        for r in range(6):
            cum = 0
            for i, le in enumerate(["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "+Inf"]):
                cum += 3 + i
                out.append(f'{f}_bucket{{route="/r{r}",le="{le}"}} {cum}')
            out.append(f'{f}_sum{{route="/r{r}"}} 12.5\n{f}_count{{route="/r{r}"}} {cum}')
    out.append("# HELP app_queue_depth Items queued.\n# TYPE app_queue_depth gauge")
    for q in range(44):
        out.append(f'app_queue_depth{{queue="q{q}",shard="{q % 4}"}} {q * 3}.5')
    return ("\n".join(out) + "\n").encode()


BODY = exposition()
RESPONSE = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: "
    + str(len(BODY)).encode()
    + b"\r\n\r\n"
    + BODY
)


async def handle(reader, writer):
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            if not head:
                break
            writer.write(RESPONSE)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
        pass
    finally:
        writer.close()


async def main(base, n):
    servers = [await asyncio.start_server(handle, "127.0.0.1", base + i, backlog=64) for i in range(n)]
    print(f"serving {len(BODY)} bytes on {n} ports from {base}", flush=True)
    await asyncio.gather(*(s.serve_forever() for s in servers))


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), int(sys.argv[2])))
