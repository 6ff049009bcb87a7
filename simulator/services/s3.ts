// S3 (restXml, path-style since the endpoint is an IP address): buckets, PutObject (including the SDK's
// default aws-chunked upload with a trailing checksum), GetObject, HeadObject, ListObjectsV2.
import { createHash } from "node:crypto";
import { crc32 } from "node:zlib";
import { AwsError } from "../errors";
import type { StoredObject } from "../state/model";
import type { World } from "../state/world";
import type { Answer, IncomingCall, PreparedCall, ServiceEndpoint } from "../wire/http";
import { escapeXml } from "../wire/schemaCodec";

const XML = '<?xml version="1.0" encoding="UTF-8"?>\n';
const S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/";

/** Decode an aws-chunked body: "<hex size>[;chunk-signature=...]\r\n<data>\r\n" ... "0\r\n<trailers>\r\n\r\n". */
function decodeAwsChunked(body: Buffer): { data: Buffer; trailers: Record<string, string> } {
  const chunks: Buffer[] = [];
  const trailers: Record<string, string> = {};
  let offset = 0;
  for (;;) {
    const lineEnd = body.indexOf("\r\n", offset);
    if (lineEnd < 0) throw new AwsError("IncompleteBody", "The request body terminated unexpectedly");
    const size = parseInt(body.subarray(offset, lineEnd).toString("latin1").split(";")[0] ?? "", 16);
    if (Number.isNaN(size))
      throw new AwsError(
        "InvalidChunkSizeError",
        "Only the last chunk is allowed to have a size less than 8192 bytes",
      );
    offset = lineEnd + 2;
    if (size === 0) break;
    chunks.push(body.subarray(offset, offset + size));
    offset += size + 2;
  }
  for (const line of body.subarray(offset).toString("latin1").split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) trailers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { data: Buffer.concat(chunks), trailers };
}

/** Checksums the simulator can verify; others (CRC32C, CRC64NVME) are stored and returned unverified. */
function computeChecksum(algorithm: string, data: Buffer): string | undefined {
  switch (algorithm) {
    case "crc32": {
      const out = Buffer.alloc(4);
      out.writeUInt32BE(crc32(data) >>> 0);
      return out.toString("base64");
    }
    case "sha1":
      return createHash("sha1").update(data).digest("base64");
    case "sha256":
      return createHash("sha256").update(data).digest("base64");
    default:
      return undefined;
  }
}

function s3Error(
  code: string,
  message: string,
  status: number,
  extra: Record<string, string> = {},
): AwsError {
  const error = new AwsError(code, message, status);
  Object.assign(error, { extra });
  return error;
}

function objectHeaders(object: StoredObject, withChecksums: boolean): Record<string, string> {
  const headers: Record<string, string> = {
    "content-type": object.contentType,
    "content-length": String(object.body.length),
    etag: object.etag,
    "last-modified": new Date(object.lastModified).toUTCString(),
    "accept-ranges": "bytes",
  };
  for (const [k, v] of Object.entries(object.metadata)) headers[`x-amz-meta-${k}`] = v;
  if (object.serverSideEncryption) headers["x-amz-server-side-encryption"] = object.serverSideEncryption;
  if (withChecksums) {
    for (const [algorithm, value] of Object.entries(object.checksums))
      headers[`x-amz-checksum-${algorithm}`] = value;
  }
  return headers;
}

export function s3Endpoint(world: World): ServiceEndpoint {
  const bucketNamed = (name: string) => {
    const bucket = world.buckets.get(name);
    if (!bucket)
      throw s3Error("NoSuchBucket", "The specified bucket does not exist", 404, { BucketName: name });
    return bucket;
  };

  const putObject = (call: IncomingCall, bucketName: string, key: string): Answer => {
    const bucket = bucketNamed(bucketName);
    const headers = call.headers;
    const encoding = String(headers["content-encoding"] ?? "");
    const contentSha = String(headers["x-amz-content-sha256"] ?? "");
    const chunked = encoding.includes("aws-chunked") || contentSha.startsWith("STREAMING-");
    const { data, trailers } = chunked ? decodeAwsChunked(call.body) : { data: call.body, trailers: {} };
    const decodedLength = headers["x-amz-decoded-content-length"];
    if (chunked && decodedLength !== undefined && Number(decodedLength) !== data.length) {
      throw s3Error(
        "IncompleteBody",
        "You did not provide the number of bytes specified by the Content-Length HTTP header",
        400,
      );
    }
    const md5 = createHash("md5").update(data).digest();
    const contentMd5 = headers["content-md5"];
    if (typeof contentMd5 === "string" && contentMd5 !== md5.toString("base64")) {
      throw s3Error("BadDigest", "The Content-MD5 you specified did not match what we received.", 400);
    }
    const checksums: Record<string, string> = {};
    for (const source of [headers, trailers]) {
      for (const [name, value] of Object.entries(source)) {
        const match = /^x-amz-checksum-(crc32|crc32c|crc64nvme|sha1|sha256)$/.exec(name);
        if (match?.[1] && typeof value === "string") checksums[match[1]] = value;
      }
    }
    for (const [algorithm, value] of Object.entries(checksums)) {
      const actual = computeChecksum(algorithm, data);
      if (actual !== undefined && actual !== value) {
        throw s3Error(
          "BadDigest",
          `The ${algorithm.toUpperCase()} you specified did not match the calculated checksum.`,
          400,
        );
      }
    }
    const metadata: Record<string, string> = {};
    for (const [name, value] of Object.entries(headers)) {
      if (name.startsWith("x-amz-meta-") && typeof value === "string") metadata[name.slice(11)] = value;
    }
    const object: StoredObject = {
      body: Buffer.from(data),
      contentType: String(headers["content-type"] ?? "binary/octet-stream"),
      etag: `"${md5.toString("hex")}"`,
      lastModified: world.now(),
      metadata,
      checksums,
      serverSideEncryption: String(headers["x-amz-server-side-encryption"] ?? "AES256"),
      versionId: world.random.hex(32),
    };
    bucket.objects.set(key, object);
    const answerHeaders: Record<string, string> = { etag: object.etag };
    if (object.serverSideEncryption)
      answerHeaders["x-amz-server-side-encryption"] = object.serverSideEncryption;
    for (const [algorithm, value] of Object.entries(checksums))
      answerHeaders[`x-amz-checksum-${algorithm}`] = value;
    return { status: 200, headers: answerHeaders };
  };

  const listObjects = (call: IncomingCall, bucketName: string): Answer => {
    const bucket = bucketNamed(bucketName);
    const prefix = call.query.get("prefix") ?? "";
    const keys = [...bucket.objects.keys()].filter((k) => k.startsWith(prefix)).sort();
    const contents = keys
      .map((key) => {
        const object = bucket.objects.get(key);
        if (!object) return "";
        return `<Contents><Key>${escapeXml(key)}</Key><LastModified>${new Date(object.lastModified).toISOString()}</LastModified><ETag>${escapeXml(object.etag)}</ETag><Size>${object.body.length}</Size><StorageClass>STANDARD</StorageClass></Contents>`;
      })
      .join("");
    const body = `${XML}<ListBucketResult xmlns="${S3_NS}"><Name>${escapeXml(bucket.name)}</Name><Prefix>${escapeXml(prefix)}</Prefix><KeyCount>${keys.length}</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>${contents}</ListBucketResult>`;
    return { status: 200, headers: { "content-type": "application/xml" }, body };
  };

  return {
    signingName: "s3",
    prepare(call: IncomingCall): PreparedCall {
      const [, bucketName = "", ...keyParts] = call.path.split("/");
      const key = keyParts.join("/");
      const subresources = [...call.query.keys()].filter(
        (k) => k !== "x-id" && k !== "list-type" && k !== "prefix",
      );
      const method = call.method;
      const named = (action: string, execute: () => Answer): PreparedCall => ({
        action,
        params: { Bucket: bucketName, ...(key ? { Key: key } : {}), ...Object.fromEntries(call.query) },
        execute,
      });
      if (subresources.length > 0) {
        return named(`${method} ?${subresources.join("&")}`, () => {
          throw s3Error(
            "NotImplemented",
            `The simulator does not implement the S3 subresource ?${subresources.join("&")}`,
            501,
          );
        });
      }
      if (!bucketName) {
        return named("ListBuckets", () => {
          throw s3Error("NotImplemented", "The simulator does not implement ListBuckets", 501);
        });
      }
      if (!key) {
        if (method === "PUT") {
          return named("CreateBucket", () => {
            if (world.buckets.has(bucketName)) {
              throw s3Error(
                "BucketAlreadyOwnedByYou",
                "Your previous request to create the named bucket succeeded and you already own it.",
                409,
                { BucketName: bucketName },
              );
            }
            world.buckets.set(bucketName, { name: bucketName, createdAt: world.now(), objects: new Map() });
            return { status: 200, headers: { location: `/${bucketName}` } };
          });
        }
        if (method === "GET" && call.query.get("list-type") === "2") {
          return named("ListObjectsV2", () => listObjects(call, bucketName));
        }
        if (method === "HEAD") {
          return named("HeadBucket", () => {
            bucketNamed(bucketName);
            return { status: 200 };
          });
        }
      } else {
        if (method === "PUT") {
          if (call.headers["x-amz-copy-source"]) {
            return named("CopyObject", () => {
              throw s3Error("NotImplemented", "The simulator does not implement CopyObject", 501);
            });
          }
          return named("PutObject", () => putObject(call, bucketName, key));
        }
        if (method === "GET" || method === "HEAD") {
          const head = method === "HEAD";
          return named(head ? "HeadObject" : "GetObject", () => {
            const object = bucketNamed(bucketName).objects.get(key);
            if (!object) throw s3Error("NoSuchKey", "The specified key does not exist.", 404, { Key: key });
            const withChecksums =
              String(call.headers["x-amz-checksum-mode"] ?? "").toUpperCase() === "ENABLED";
            return {
              status: 200,
              headers: objectHeaders(object, withChecksums),
              body: head ? undefined : object.body,
            };
          });
        }
      }
      return named(`${method} object`, () => {
        throw s3Error("NotImplemented", `The simulator does not implement ${method} on this resource`, 501);
      });
    },
    errorAnswer(error: AwsError, requestId: string): Answer {
      const extra = (error as AwsError & { extra?: Record<string, string> }).extra ?? {};
      const extraXml = Object.entries(extra)
        .map(([k, v]) => `<${k}>${escapeXml(v)}</${k}>`)
        .join("");
      const body = `${XML}<Error><Code>${escapeXml(error.code)}</Code><Message>${escapeXml(error.message)}</Message>${extraXml}<RequestId>${requestId}</RequestId><HostId>${requestId}</HostId></Error>`;
      return {
        status: error.httpStatus,
        headers: { "content-type": "application/xml", "x-amz-request-id": requestId },
        body,
      };
    },
    throttlingError: () => new AwsError("SlowDown", "Please reduce your request rate.", 503),
  };
}
