import { Controller, Get, Inject, Logger, Put, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { pipeline } from 'node:stream/promises';
import { ProblemError } from '@modelsmith/http';
import {
  contentDisposition,
  FsObjectStore,
  StorageError,
  ObjectUrlRefused,
  OBJECTS_ROUTE,
  pathToKey,
  type ObjectGrant,
  type ObjectStore,
} from '@modelsmith/storage';
import { OBJECT_STORE } from '@modelsmith/storage/nest';
import { Public } from '../auth/decorators';
import { objectProblem, urlRefused } from './object-problems';

/**
 * The presigned URLs of the filesystem object store: `GET /v1/objects/<key>?expires&signature` reads
 * one object, `PUT /v1/objects/<key>?uploadId&partNumber&maxBytes&expires&signature` receives one
 * part of a multipart upload. No API key: the URL's HMAC signature is the credential (see
 * docs/storage.md). Anything else (no or a wrong signature, another key or method, an expired URL,
 * a listing) is a 403 or 404 problem and never data. With the S3 driver every request here is 404.
 */
@ApiExcludeController()
@Public()
@Controller('objects')
export class ObjectsController {
  private readonly logger = new Logger('ObjectsController');

  constructor(@Inject(OBJECT_STORE) private readonly store: ObjectStore) {}

  @Get('*key')
  async download(@Req() req: Request, @Res() res: Response): Promise<void> {
    const { store, grant } = this.authorize(req);
    let opened;
    try {
      opened = await store.openRead(grant.key);
    } catch (e) {
      throw objectProblem(e);
    }
    const { stat, stream } = opened;
    res.status(200);
    res.setHeader('Content-Type', stat.contentType ?? 'application/octet-stream');
    res.setHeader('Content-Length', String(stat.size));
    res.setHeader('ETag', `"${stat.etag}"`);
    res.setHeader('Last-Modified', stat.lastModified.toUTCString());
    res.setHeader('Cache-Control', 'private, no-store');
    // Stored bytes are the tenants' own: never rendered as a page of the API's origin.
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Content-Security-Policy', "default-src 'none'; sandbox");
    if (grant.downloadName !== undefined)
      res.setHeader('Content-Disposition', contentDisposition(grant.downloadName));
    try {
      await pipeline(stream, res);
    } catch (e) {
      // The client went away or the file could not be read mid-way: the response is cut short.
      stream.destroy();
      if (!res.destroyed) res.destroy();
      this.logger.debug(`download of an object ended early: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  @Put('*key')
  async uploadPart(@Req() req: Request, @Res() res: Response): Promise<void> {
    const { store, grant } = this.authorize(req);
    const maxBytes = Math.min(grant.maxBytes ?? store.maxPartBytes, store.maxPartBytes);
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > maxBytes) {
      req.resume();
      throw new ProblemError({
        status: 413,
        code: 'PAYLOAD_TOO_LARGE',
        title: 'Part too large',
        detail: `a part of this upload is limited to ${maxBytes} bytes`,
      });
    }
    let clientGone = false;
    req.once('aborted', () => (clientGone = true));
    let part;
    try {
      part = await store.uploadPart(grant.key, grant.uploadId ?? '', grant.partNumber ?? 0, req, maxBytes);
    } catch (e) {
      if (!req.complete) req.resume(); // drain what is left so the answer reaches the client
      if (e instanceof StorageError) throw objectProblem(e);
      // The request stream itself failed (client abort, reset): nothing was stored.
      if (clientGone || req.destroyed) {
        this.logger.debug('part upload aborted by the client; nothing stored');
        return;
      }
      throw new ProblemError({
        status: 400,
        code: 'BAD_REQUEST',
        title: 'Upload interrupted',
        detail: 'the request body ended early; send the part again',
      });
    }
    res.status(200).setHeader('ETag', `"${part.etag}"`).end();
  }

  /** The fs store and the grant the URL carries; 404 with another driver, 403 for a URL that does not verify. */
  private authorize(req: Request): { store: FsObjectStore; grant: ObjectGrant } {
    const store = this.store;
    if (!(store instanceof FsObjectStore) || !store.urlSigner)
      throw new ProblemError({
        status: 404,
        code: 'NOT_FOUND',
        title: 'Not found',
        detail: 'this installation serves objects from its S3 store',
      });
    const url = req.originalUrl;
    const q = url.indexOf('?');
    const rawPath = q === -1 ? url : url.slice(0, q);
    if (!rawPath.startsWith(OBJECTS_ROUTE)) throw urlRefused('not an object path');
    const key = pathToKey(rawPath.slice(OBJECTS_ROUTE.length));
    if (key === null) throw urlRefused('not an object key');
    try {
      return {
        store,
        grant: store.urlSigner.verify(req.method, key, new URLSearchParams(q === -1 ? '' : url.slice(q + 1))),
      };
    } catch (e) {
      if (e instanceof ObjectUrlRefused) throw urlRefused(e.message);
      throw e;
    }
  }
}
