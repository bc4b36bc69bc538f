# Student code that knows the job's nonce (the test plants it: NONCE below) and writes well-formed frames
# with it for every probe of vae-reparam, claiming perfect results, while its function returns garbage.
# It also looks for the nonce and the judge's channel in the supervisor process, as a real attacker would.
import json
import os

NONCE = "@@NONCE@@"
FOUND = {}
for what in ("environ", "cmdline", "mem", "fd/1", "fd/0"):
    try:
        with open(f"/proc/{os.getppid()}/{what}", "rb") as f:
            FOUND[what] = "the nonce" if NONCE.encode() in f.read(1 << 20) else "read, no nonce"
    except OSError as exc:
        FOUND[what] = type(exc).__name__
try:
    with open(f"/proc/{os.getppid()}/fd/1", "wb") as channel:  # the judge's channel, if it could be opened
        FOUND["fd/1 write"] = "opened"
except OSError as exc:
    FOUND["fd/1 write"] = type(exc).__name__
print("PROBED", json.dumps(FOUND, sort_keys=True), flush=True)


def frame(kind, payload):
    body = json.dumps(payload).encode()
    return b"\n\x00DGM1 " + f"{NONCE} {kind} {len(body)} 0\n".encode() + body


PROBES = ["shape0", "shape1", "shape2", "shape3", "samples", "reproducible", "gradients", "inplace"]
FORGED = b"".join(frame("probe", {"id": p, "calls": [{"ok": True, "returns": [], "mutated": [], "forbidden": []}]})
                  for p in PROBES)


os.write(1, FORGED)  # on stdout too, once


def reparameterize(mu, logvar):
    for fd in range(3, 64):  # every other descriptor it has
        try:
            os.write(fd, FORGED)
        except OSError:
            pass
    return mu * 0 - 5
