"""Runs a real S3-compatible server (moto's server mode) on loopback for
ckpt's tests, set up the way a locked-down account is:

  * an owner user whose keys may do anything, and a stranger user with no
    policy at all (every S3 call it makes is denied);
  * one bucket for the tests;
  * request signing and IAM policies enforced from then on.

It writes <work>/s3.env (KEY=VALUE lines the Go harness reads), prints
READY, and serves until its standard input reaches EOF (the test binary
that started it holds the other end: when that process ends, however it
ends, this one follows) or it gets SIGTERM.

Usage: server.py <work-dir>
"""
import json
import logging
import os
import signal
import sys
import threading
import urllib.request

import boto3
import botocore.auth
from moto.moto_server.threaded_moto_server import ThreadedMotoServer

REGION = "us-east-1"
BUCKET = "ckpt-test"


def main() -> None:
    work = sys.argv[1]
    # One log line per request costs the tests' throughput; errors still log.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer("127.0.0.1", 0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"

    def client(service, key="setup", secret="setup"):
        return boto3.client(service, endpoint_url=endpoint, region_name=REGION,
                            aws_access_key_id=key, aws_secret_access_key=secret)

    iam = client("iam")
    keys = {}
    for user, policy in (("ckpt-owner", {"Effect": "Allow", "Action": "*", "Resource": "*"}),
                         ("ckpt-stranger", None)):
        iam.create_user(UserName=user)
        if policy:
            iam.put_user_policy(UserName=user, PolicyName="all",
                                PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [policy]}))
        k = iam.create_access_key(UserName=user)["AccessKey"]
        keys[user] = (k["AccessKeyId"], k["SecretAccessKey"])
    client("s3").create_bucket(Bucket=BUCKET)

    # From here on every request must be signed by a known key and allowed
    # by that user's policies.
    req = urllib.request.Request(endpoint + "/moto-api/reset-auth", data=b"0", method="POST",
                                 headers={"Content-Type": "text/plain"})
    urllib.request.urlopen(req, timeout=10).read()
    # moto checks a signature by signing the request again with botocore,
    # over the headers the client says it signed; but botocore leaves out
    # a fixed list of headers (User-Agent, Expect, ...) whatever the client
    # said, and the AWS SDK for Java v1 (Hadoop S3A in Flink's S3 plugin)
    # signs User-Agent: every request of Flink's would be refused. S3
    # itself verifies what the client signed; so does this server from now
    # on (its own boto3 clients above are done).
    botocore.auth.SIGNED_HEADERS_BLACKLIST.clear()

    env = {
        "CKPT_S3_ENDPOINT": endpoint,
        "CKPT_S3_REGION": REGION,
        "CKPT_S3_BUCKET": BUCKET,
        "CKPT_S3_ACCESS_KEY": keys["ckpt-owner"][0],
        "CKPT_S3_SECRET_KEY": keys["ckpt-owner"][1],
        "CKPT_S3_STRANGER_ACCESS_KEY": keys["ckpt-stranger"][0],
        "CKPT_S3_STRANGER_SECRET_KEY": keys["ckpt-stranger"][1],
    }
    tmp = os.path.join(work, "s3.env.tmp")
    with open(tmp, "w") as f:
        for k, v in env.items():
            f.write(f"{k}={v}\n")
    os.replace(tmp, os.path.join(work, "s3.env"))
    with open(os.path.join(work, "s3.pid"), "w") as f:
        f.write(f"{os.getpid()}\n")
    print("READY", endpoint, flush=True)

    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())

    def lifeline():
        try:
            while sys.stdin.buffer.read(4096):
                pass
        finally:
            done.set()

    threading.Thread(target=lifeline, daemon=True).start()
    done.wait()
    os._exit(0)


if __name__ == "__main__":
    main()
