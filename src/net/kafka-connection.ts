// One client socket to one broker: pipelined requests matched to responses by
// correlation id, with a timeout on every request. This is the base of the bundled client
// and of the benchmark load generator (which pre-encodes frames and uses `sendFrame`).

import * as net from 'node:net';
import type { ApiKey } from '../../protocol/api-keys';
import type { RequestInput, Response } from '../../protocol/apis';
import { requestCodec, responseCodec } from '../../protocol/codec';
import { encodeRequestFrameParts, FrameAssembler, frameReads } from '../../protocol/frame';
import { decodeResponseHeader, responseHeaderVersion } from '../../protocol/header';
import { Reader } from '../../protocol/primitives';

export interface ConnectionOptions {
  host: string;
  port: number;
  clientId?: string;
  requestTimeoutMs?: number;
  connectTimeoutMs?: number;
  maxFrameBytes?: number;
}

interface Waiting {
  resolve: (body: Reader) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout | null;
}

export class KafkaConnection {
  private socket: net.Socket | null = null;
  private nextCorrelationId = 1;
  private readonly waiting = new Map<number, Waiting>();
  private readonly assembler: FrameAssembler;
  private closedError: Error | null = null;

  constructor(private readonly options: ConnectionOptions) {
    this.assembler = new FrameAssembler(options.maxFrameBytes ?? 256 * 1024 * 1024);
  }

  connect(): Promise<void> {
    return new Promise((resolve, reject) => {
      // Responses are read through the assembler (see protocol/frame.ts): a large fetch
      // response lands in its own buffer with no per-read allocation or joining copy.
      const onread = frameReads(
        this.assembler,
        (frames) => this.onFrames(frames),
        (error) => {
          this.failAll(error);
          this.socket?.destroy();
        },
      );
      const socket = net.connect({ host: this.options.host, port: this.options.port, noDelay: true, onread });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`connect to ${this.options.host}:${this.options.port} timed out`));
      }, this.options.connectTimeoutMs ?? 10_000);
      socket.once('connect', () => {
        clearTimeout(timer);
        this.socket = socket;
        resolve();
      });
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      socket.on('close', () => this.failAll(new Error('connection closed')));
      socket.on('error', () => undefined);
    });
  }

  private onFrames(frames: Buffer[]): boolean {
    for (const frame of frames) {
      if (frame.length < 4) {
        this.failAll(new Error(`response frame of ${frame.length} bytes has no correlation id`));
        this.socket?.destroy();
        return false;
      }
      const correlationId = frame.readInt32BE(0);
      const waiting = this.waiting.get(correlationId);
      if (!waiting) continue;
      this.waiting.delete(correlationId);
      if (waiting.timer) clearTimeout(waiting.timer);
      waiting.resolve(new Reader(frame));
    }
    return true;
  }

  private failAll(error: Error): void {
    this.closedError = error;
    for (const [, waiting] of this.waiting) {
      if (waiting.timer) clearTimeout(waiting.timer);
      waiting.reject(error);
    }
    this.waiting.clear();
  }

  /** Connected and not failed: requests can be sent. */
  get isOpen(): boolean {
    return this.socket !== null && this.closedError === null && !this.socket.destroyed;
  }

  get inflight(): number {
    return this.waiting.size;
  }

  allocateCorrelationId(): number {
    const id = this.nextCorrelationId;
    this.nextCorrelationId = (this.nextCorrelationId + 1) & 0x7fffffff;
    return id;
  }

  /**
   * Sends a complete frame whose correlation id is `correlationId`; resolves with a reader
   * positioned at the start of the response (its header still unread).
   */
  sendFrame(frame: Buffer | Buffer[], correlationId: number, expectResponse = true): Promise<Reader> {
    const socket = this.socket;
    if (!socket || this.closedError) return Promise.reject(this.closedError ?? new Error('not connected'));
    const parts = Array.isArray(frame) ? frame : [frame];
    if (!expectResponse) {
      for (const part of parts) socket.write(part);
      return Promise.resolve(new Reader(Buffer.alloc(0)));
    }
    return new Promise((resolve, reject) => {
      const timeoutMs = this.options.requestTimeoutMs ?? 30_000;
      const timer =
        timeoutMs > 0
          ? setTimeout(() => {
              this.waiting.delete(correlationId);
              reject(new Error(`request ${correlationId} timed out after ${timeoutMs} ms`));
            }, timeoutMs)
          : null;
      this.waiting.set(correlationId, { resolve, reject, timer });
      if (parts.length === 1) socket.write(parts[0]);
      else {
        socket.cork();
        for (const part of parts) socket.write(part);
        socket.uncork();
      }
    });
  }

  /**
   * Encodes, sends and decodes one request with the schema codecs: the body and the answer
   * are typed by the API's schema. With `expectResponse` false nothing is read back and the
   * promise resolves with `undefined` (a produce with acks 0).
   */
  request<K extends ApiKey>(apiKey: K, apiVersion: number, body: RequestInput<K>): Promise<Response<K>>;
  request<K extends ApiKey>(
    apiKey: K,
    apiVersion: number,
    body: RequestInput<K>,
    expectResponse: boolean,
  ): Promise<Response<K> | undefined>;
  async request<K extends ApiKey>(
    apiKey: K,
    apiVersion: number,
    body: RequestInput<K>,
    expectResponse = true,
  ): Promise<Response<K> | undefined> {
    const correlationId = this.allocateCorrelationId();
    const frame = encodeRequestFrameParts(
      { apiKey, apiVersion, correlationId, clientId: this.options.clientId ?? 'brook' },
      requestCodec(apiKey, apiVersion),
      body,
    );
    const reader = await this.sendFrame(frame, correlationId, expectResponse);
    if (!expectResponse) return undefined;
    decodeResponseHeader(reader, responseHeaderVersion(apiKey, apiVersion));
    return responseCodec(apiKey, apiVersion).decode(reader);
  }

  close(): void {
    this.socket?.destroy();
    this.socket = null;
  }
}
