"""Reads what a WiGLE upload sent, with Python's own parsers: the multipart/form-data body
(email), the gzip member (gzip) and the WiGLE CSV inside it (csv). Prints JSON for the Rust
test to compare.

    check_wigle_upload.py multipart BODY_FILE CONTENT_TYPE
    check_wigle_upload.py csv CSV_FILE          (a plain `piwardrive export --format wigle`)
"""

import csv
import email.parser
import email.policy
import gzip
import io
import json
import sys


def read_wigle(text):
    """Splits a WiGLE CSV into its pre-header record, header line and rows (RFC 4180)."""
    pre_line, rest = text.split("\n", 1)
    header_line, body = rest.split("\n", 1)
    pre = next(csv.reader([pre_line]))
    rows = list(csv.reader(io.StringIO(body, newline="")))
    return {"pre_header_line": pre_line, "pre_header": pre, "header_line": header_line, "rows": rows}


def multipart(body_path, content_type):
    body = open(body_path, "rb").read()
    head = ("Content-Type: " + content_type + "\r\nMIME-Version: 1.0\r\n\r\n").encode("ascii")
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    out = {"is_multipart": msg.is_multipart(), "content_type": msg.get_content_type(),
           "defects": [str(d) for d in msg.defects], "parts": [], "fields": {}}
    for part in msg.iter_parts():
        name = part.get_param("name", header="content-disposition")
        filename = part.get_param("filename", header="content-disposition")
        payload = part.get_payload(decode=True)
        info = {"name": name, "filename": filename, "content_type": part.get_content_type(),
                "disposition": part.get_content_disposition(), "size": len(payload),
                "defects": [str(d) for d in part.defects]}
        out["parts"].append(info)
        if filename is None:
            out["fields"][name] = payload.decode("utf-8")
        elif name == "file":
            info["gzip_magic"] = payload[:2] == b"\x1f\x8b"
            text = gzip.decompress(payload).decode("utf-8")
            out["file"] = read_wigle(text)
    return out


def main():
    if sys.argv[1] == "multipart":
        result = multipart(sys.argv[2], sys.argv[3])
    else:
        result = read_wigle(open(sys.argv[2], encoding="utf-8", newline="").read())
    json.dump(result, sys.stdout)


main()
