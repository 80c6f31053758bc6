// A scripted Kafka node for client tests: a TCP server that decodes each request with the
// protocol codecs and answers from a script. ApiVersions is answered here (the versions
// listed in `versions`); every other request goes to `answer`, which returns the response
// body, a promise of it (a held long poll), or 'drop' to close the connection. Answers go
// out in request order per connection, as a broker sends them.

import * as net from 'node:net';
import { ApiKey } from '../../protocol/api-keys';
import { requestCodec, responseCodec } from '../../protocol/codec';
import { encodeResponseFrame, FrameAssembler } from '../../protocol/frame';
import { decodeRequestHeader } from '../../protocol/header';
import { Reader } from '../../protocol/primitives';

export interface ScriptedRequest {
  apiKey: number;
  apiVersion: number;
  body: any;
}

export type ScriptedAnswer = unknown | 'drop';

export interface ScriptedNode {
  port: number;
  seen: ScriptedRequest[];
  close(): void;
}

export async function scriptedNode(
  versions: { apiKey: number; minVersion: number; maxVersion: number }[],
  answer: (request: ScriptedRequest, port: number) => ScriptedAnswer | Promise<ScriptedAnswer>,
): Promise<ScriptedNode> {
  const seen: ScriptedRequest[] = [];
  const sockets = new Set<net.Socket>();
  let port = 0;
  const server = net.createServer((socket) => {
    sockets.add(socket);
    const frames = new FrameAssembler(64 * 1024 * 1024);
    // Each answer waits for the one before it on this connection.
    let previous: Promise<void> = Promise.resolve();
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    socket.on('data', (chunk) => {
      for (const frame of frames.push(chunk)) {
        const reader = new Reader(frame);
        const header = decodeRequestHeader(reader);
        const request = {
          apiKey: header.apiKey,
          apiVersion: header.apiVersion,
          body: requestCodec(header.apiKey, header.apiVersion).decode(reader),
        };
        seen.push(request);
        const body =
          header.apiKey === ApiKey.ApiVersions
            ? {
                errorCode: 0,
                apiKeys: versions,
                throttleTimeMs: 0,
                supportedFeatures: [],
                finalizedFeaturesEpoch: -1,
                finalizedFeatures: [],
                zkMigrationReady: false,
              }
            : answer(request, port);
        const mine = Promise.all([previous, body]).then(([, resolved]) => {
          if (socket.destroyed) return;
          if (resolved === 'drop') {
            socket.destroy();
            return;
          }
          for (const part of encodeResponseFrame(
            header.apiKey,
            header.apiVersion,
            header.correlationId,
            responseCodec(header.apiKey, header.apiVersion),
            resolved,
          ))
            socket.write(part);
        });
        previous = mine.catch(() => undefined);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as net.AddressInfo).port;
  return {
    port,
    seen,
    close: () => {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}
