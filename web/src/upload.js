// Uploads a file the way the API says (UploadInstructions): one presigned PUT, or presigned
// PUTs of each part (at most 4 at once) followed by POST complete with the parts' ETags;
// then polls the media until the transcoder finished. XMLHttpRequest rather than fetch,
// because only it reports upload progress.

import { describeError } from './api.js';

const PART_CONCURRENCY = 4;
const PART_ATTEMPTS = 3; // a part that fails on the network or with a 5xx is sent again
const POLL_INTERVAL_MS = 2000;
const POLL_GIVE_UP_MS = 30 * 60 * 1000;

// Headers a page may not set (the fetch spec's forbidden names): the browser sends them
// itself. Content-Length is signed, and the browser sets it from the body, which is exactly
// the size the API signed.
const FORBIDDEN = /^(accept-charset|accept-encoding|access-control-request-.*|connection|content-length|cookie2?|date|dnt|expect|host|keep-alive|origin|referer|set-cookie|te|trailer|transfer-encoding|upgrade|via|proxy-.*|sec-.*)$/i;

// Browsers leave File.type empty for some video types (.mkv on most systems); the API
// wants one of its allowed types, so the extension decides then.
const TYPES_BY_EXTENSION = {
  mp4: 'video/mp4', m4v: 'video/mp4', mov: 'video/quicktime', qt: 'video/quicktime', webm: 'video/webm',
  mkv: 'video/x-matroska', avi: 'video/x-msvideo', mpg: 'video/mpeg', mpeg: 'video/mpeg', '3gp': 'video/3gpp',
};

export function contentTypeOf(file) {
  if (file.type) return file.type;
  const ext = file.name.split('.').pop()?.toLowerCase() ?? '';
  return TYPES_BY_EXTENSION[ext] ?? 'application/octet-stream'; // the API says which it accepts
}

/**
 * The status word the upload page shows: uploading while bytes go, then the media's
 * status folded to processing / ready / failed, or cancelled.
 */
function statusWord(mediaStatus) {
  if (mediaStatus === 'ready' || mediaStatus === 'failed') return mediaStatus;
  return 'processing'; // pending_upload (the bucket's event is on its way), uploaded, processing
}

/**
 * Upload runs one upload and reports its state to subscribers:
 * { status, percent, loaded, total, mediaId, media, error, detail, active, cancellable }.
 */
export class Upload {
  #listeners = new Set();
  #xhrs = new Set();
  #stopped = false;
  #pollTimer = 0;

  constructor(api, file, { title, description, visibility }) {
    this.api = api;
    this.file = file;
    this.meta = { title, description, visibility };
    this.state = {
      status: 'uploading', percent: 0, loaded: 0, total: file.size, mediaId: '', media: null,
      error: '', detail: 'Starting the upload…', active: true, cancellable: true,
    };
  }

  subscribe(fn) {
    this.#listeners.add(fn);
    fn(this.state);
    return () => this.#listeners.delete(fn);
  }

  #set(changes) {
    this.state = { ...this.state, ...changes };
    for (const fn of this.#listeners) fn(this.state);
  }

  /** Runs the whole upload; never rejects (failures end up in state.error). */
  async start() {
    try {
      const body = {
        filename: this.file.name,
        content_type: contentTypeOf(this.file),
        size_bytes: this.file.size,
        title: this.meta.title || undefined, // the API takes the file name without extension
        description: this.meta.description || undefined,
        visibility: this.meta.visibility || undefined, // the stack's default
      };
      const created = await this.api.createUpload(body);
      const { media_id: mediaId, upload } = created;
      if (this.#stopped) { // cancelled while the upload was being created
        this.#discard(mediaId);
        return;
      }
      this.#set({ mediaId, detail: 'Sending the file…' });

      let media = null;
      if (upload.type === 'multipart') {
        const parts = await this.#sendParts(upload);
        if (this.#stopped) return;
        performance.mark('mediastack:upload-last-byte');
        this.#set({ cancellable: false, detail: 'Completing the upload…' });
        media = await this.api.completeUpload(mediaId, { upload_id: upload.upload_id, parts }, upload.complete_url);
      } else {
        await this.#put(upload.url, this.file.slice(0, this.file.size), upload.headers ?? {}, upload.method || 'PUT', (n) => this.#progress({ single: n }));
        if (this.#stopped) return;
        performance.mark('mediastack:upload-last-byte');
        this.#set({ cancellable: false });
      }
      this.#set({ percent: 100, loaded: this.file.size, cancellable: false, status: 'processing', detail: 'Uploaded. Waiting for the transcoder…' });
      if (media) this.#showMedia(media);
      this.#poll(Date.now());
    } catch (err) {
      if (this.#stopped) return; // cancelled: the aborts' rejections are expected
      this.#stopped = true;
      this.#abortAll();
      this.#set({
        status: this.state.mediaId ? 'failed' : '', error: describeError(err), detail: '', active: false, cancellable: false,
      });
    }
  }

  /**
   * Aborts every request in flight and deletes the pending media, which also aborts its
   * multipart upload at S3: a cancelled upload leaves nothing behind.
   */
  cancel() {
    if (!this.state.cancellable || this.#stopped) return;
    this.#stopped = true;
    this.#abortAll();
    clearTimeout(this.#pollTimer);
    this.#set({ status: 'cancelled', detail: 'Upload cancelled: nothing more is sent.', active: false, cancellable: false });
    if (this.state.mediaId) this.#discard(this.state.mediaId);
  }

  #discard(mediaId) {
    this.api.deleteMedia(mediaId).catch((err) => {
      this.#set({ error: `The upload was cancelled, but its pending entry could not be removed: ${describeError(err)}. Delete it from your media.` });
    });
  }

  #abortAll() {
    for (const xhr of this.#xhrs) xhr.abort();
    this.#xhrs.clear();
  }

  // Bytes sent per part (or for the single PUT), summed into the aggregate percentage.
  #sent = new Map();
  #progress(update) {
    for (const [k, v] of Object.entries(update)) this.#sent.set(k, v);
    const loaded = Math.min([...this.#sent.values()].reduce((a, b) => a + b, 0), this.file.size);
    const percent = this.file.size ? Math.floor((loaded * 100) / this.file.size) : 100;
    if (percent !== this.state.percent || loaded !== this.state.loaded) this.#set({ loaded, percent });
  }

  async #sendParts(upload) {
    const parts = [...(upload.parts ?? [])].sort((a, b) => a.part_number - b.part_number);
    let offset = 0;
    const jobs = parts.map((p) => {
      const job = { ...p, start: offset, end: offset + p.size_bytes };
      offset = job.end;
      return job;
    });
    if (offset !== this.file.size) {
      throw new Error(`The API's parts cover ${offset} bytes but the file has ${this.file.size}: choose the file again.`);
    }
    const etags = new Map();
    let next = 0;
    const worker = async () => {
      while (next < jobs.length && !this.#stopped) {
        const job = jobs[next++];
        etags.set(job.part_number, await this.#sendPart(job));
      }
    };
    await Promise.all(Array.from({ length: Math.min(PART_CONCURRENCY, jobs.length) }, worker));
    return jobs.map((j) => ({ part_number: j.part_number, etag: etags.get(j.part_number) }));
  }

  async #sendPart(job) {
    for (let attempt = 1; ; attempt++) {
      try {
        // slice() without a type: the part's signature covers no Content-Type, so none is sent.
        const etag = await this.#put(job.url, this.file.slice(job.start, job.end), job.headers ?? {}, 'PUT',
          (n) => this.#progress({ [job.part_number]: n }));
        if (!etag) {
          throw new Error(`S3 answered part ${job.part_number} without an ETag header: the bucket's CORS rules must expose ETag.`);
        }
        return etag;
      } catch (err) {
        this.#progress({ [job.part_number]: 0 });
        if (this.#stopped || !err.retryable || attempt >= PART_ATTEMPTS) {
          if (err.retryable || err.s3) err.message = `Part ${job.part_number}: ${err.message}`;
          throw err;
        }
        await new Promise((r) => setTimeout(r, 1000 * attempt));
      }
    }
  }

  // PUTs body to a presigned URL with the headers that were signed; resolves the ETag.
  #put(url, body, headers, method, onProgress) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      this.#xhrs.add(xhr);
      xhr.open(method, url);
      for (const [name, value] of Object.entries(headers)) {
        if (!FORBIDDEN.test(name)) xhr.setRequestHeader(name, value);
      }
      xhr.upload.addEventListener('progress', (e) => onProgress(e.loaded));
      xhr.addEventListener('load', () => {
        this.#xhrs.delete(xhr);
        if (xhr.status >= 200 && xhr.status < 300) {
          onProgress(body.size);
          resolve(xhr.getResponseHeader('ETag'));
          return;
        }
        const err = new Error(s3Message(xhr));
        err.retryable = xhr.status >= 500;
        err.s3 = true;
        reject(err);
      });
      xhr.addEventListener('error', () => {
        this.#xhrs.delete(xhr);
        const err = new Error('The upload to storage failed on the network (or the bucket refused this origin).');
        err.retryable = true;
        reject(err);
      });
      xhr.addEventListener('abort', () => {
        this.#xhrs.delete(xhr);
        reject(new DOMException('Upload aborted', 'AbortError'));
      });
      xhr.send(body);
    });
  }

  // Polls the media every 2 s until ready or failed.
  #poll(startedAt) {
    this.#pollTimer = setTimeout(async () => {
      if (this.#stopped) return;
      try {
        const media = await this.api.getMedia(this.state.mediaId);
        if (this.#stopped) return;
        this.#showMedia(media);
        if (media.status === 'ready' || media.status === 'failed') {
          this.#stopped = true;
          this.#set({ active: false });
          return;
        }
      } catch (err) {
        // A blip (network, 5xx) is retried on the next tick; anything else ends the wait.
        if (err.status && err.status < 500) {
          this.#stopped = true;
          this.#set({ error: describeError(err), active: false });
          return;
        }
        this.#set({ detail: `Still waiting; the last check failed: ${describeError(err)}` });
      }
      if (Date.now() - startedAt > POLL_GIVE_UP_MS) {
        this.#stopped = true;
        this.#set({ active: false, detail: 'Still processing after 30 minutes: look for it later in My media.' });
        return;
      }
      this.#poll(startedAt);
    }, POLL_INTERVAL_MS);
  }

  #showMedia(media) {
    const detail = {
      pending_upload: 'Uploaded. Waiting for storage to announce it…',
      uploaded: 'Uploaded. Waiting for a transcoder…',
      processing: 'Transcoding…',
      ready: 'Ready to watch.',
      failed: 'The transcoder could not process this file.',
    }[media.status] ?? media.status;
    this.#set({
      media,
      status: statusWord(media.status),
      detail,
      error: media.status === 'failed' ? media.error || 'Transcoding failed.' : '',
    });
  }
}

// S3's error body is XML: <Error><Code>…</Code><Message>…</Message></Error>.
function s3Message(xhr) {
  let code = '';
  let message = '';
  try {
    const doc = new DOMParser().parseFromString(xhr.responseText, 'application/xml');
    code = doc.querySelector('Error > Code')?.textContent ?? '';
    message = doc.querySelector('Error > Message')?.textContent ?? '';
  } catch {
    // Not XML: the status says enough.
  }
  const hint = code === 'AccessDenied' && /expired/i.test(message) ? ' The upload link expired: start again.' : '';
  return `Storage refused the upload (HTTP ${xhr.status}${code ? ` ${code}` : ''})${message ? `: ${message}` : ''}.${hint}`;
}
