#!/usr/bin/env python3
"""A Kafka protocol shim between Debian's librdkafka 2.0.2 and the tansu broker.

Why it exists: tansu 0.6 always appends default-valued tagged fields to its
ApiVersions v3 response (KIP-482 flexible versions). librdkafka 2.0.2 skips
tagged fields wrongly and fails the handshake with "Local: Read underflow";
librdkafka >= 2.1 reads the same bytes fine. The services keep stock librdkafka
configuration; only development and test traffic goes through this shim.

What it does: forwards every byte unchanged in both directions, except the
response to an ApiVersions request of version >= 3, which it decodes and
re-encodes with every tagged-field section empty. Nothing else is touched.
tansu must advertise the shim's address, so that the connections librdkafka
opens after reading Metadata also pass through here.

Usage: kafka_shim.py LISTEN_PORT BROKER_PORT   (both on 127.0.0.1)
"""
import asyncio
import struct
import sys

API_VERSIONS = 18


def read_uvarint(buf, pos):
    shift = 0
    value = 0
    while True:
        b = buf[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            return value, pos
        shift += 7


def write_uvarint(value):
    out = bytearray()
    while True:
        b = value & 0x7F
        value >>= 7
        if value:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def skip_tagged_fields(buf, pos):
    count, pos = read_uvarint(buf, pos)
    for _ in range(count):
        _tag, pos = read_uvarint(buf, pos)
        size, pos = read_uvarint(buf, pos)
        pos += size
    return pos


def reencode_api_versions(body):
    """body: the response after its length prefix (correlation id first).

    ApiVersions v3 response (header v0, as KIP-511 requires):
      correlation_id int32, error_code int16,
      api_keys COMPACT_ARRAY[api_key int16, min int16, max int16, TAG_BUFFER],
      throttle_time_ms int32, TAG_BUFFER
    """
    correlation_id, error_code = struct.unpack_from(">ih", body, 0)
    pos = 6
    n_plus_one, pos = read_uvarint(body, pos)
    keys = []
    for _ in range(max(n_plus_one - 1, 0)):
        key, lo, hi = struct.unpack_from(">hhh", body, pos)
        pos = skip_tagged_fields(body, pos + 6)
        keys.append((key, lo, hi))
    (throttle,) = struct.unpack_from(">i", body, pos)
    out = bytearray(struct.pack(">ih", correlation_id, error_code))
    out += write_uvarint(len(keys) + 1)
    for key, lo, hi in keys:
        out += struct.pack(">hhh", key, lo, hi) + b"\x00"
    out += struct.pack(">i", throttle) + b"\x00"
    return bytes(out)


async def read_frame(reader):
    head = await reader.readexactly(4)
    (size,) = struct.unpack(">i", head)
    return await reader.readexactly(size)


async def client_to_broker(reader, writer, pending):
    while True:
        frame = await read_frame(reader)
        api_key, api_version, correlation_id = struct.unpack_from(">hhi", frame, 0)
        if api_key == API_VERSIONS and api_version >= 3:
            pending.add(correlation_id)
        writer.write(struct.pack(">i", len(frame)) + frame)
        await writer.drain()


async def broker_to_client(reader, writer, pending):
    while True:
        frame = await read_frame(reader)
        (correlation_id,) = struct.unpack_from(">i", frame, 0)
        if correlation_id in pending:
            pending.discard(correlation_id)
            try:
                frame = reencode_api_versions(frame)
            except (struct.error, IndexError) as error:
                print(f"kafka-shim: could not re-encode ApiVersions: {error}", file=sys.stderr)
        writer.write(struct.pack(">i", len(frame)) + frame)
        await writer.drain()


async def handle(client_reader, client_writer, broker_port):
    try:
        broker_reader, broker_writer = await asyncio.open_connection("127.0.0.1", broker_port)
    except OSError:
        client_writer.close()
        return
    pending = set()
    tasks = [
        asyncio.create_task(client_to_broker(client_reader, broker_writer, pending)),
        asyncio.create_task(broker_to_client(broker_reader, client_writer, pending)),
    ]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        for w in (client_writer, broker_writer):
            w.close()


async def main():
    listen_port, broker_port = int(sys.argv[1]), int(sys.argv[2])
    server = await asyncio.start_server(
        lambda r, w: handle(r, w, broker_port), "127.0.0.1", listen_port
    )
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
