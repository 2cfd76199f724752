"""Verifies a message's DKIM signature with dkimpy, the public key given instead of looked
up in DNS: the campaigns tests hold their signer to an independent implementation.
Usage: dkim_verify.py "<TXT record>" < message; prints "pass" or "fail"."""
import sys

import dkim

record = sys.argv[1].encode()
message = sys.stdin.buffer.read()
ok = dkim.verify(message, dnsfunc=lambda name, timeout=5: record)
print("pass" if ok else "fail")
