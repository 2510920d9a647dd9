import { useEffect, useRef, useState } from 'preact/hooks';
import { ModelsmithError, uploadDatasetBlob, type UploadState } from '@modelsmith/sdk/browser';
import { isTerminal, useJob } from '../follow';
import { bytes, ErrorNote, Progress, Section, useClient } from '../ui';

const stateKey = (datasetId: string, f: File) =>
  `modelsmith.upload.${datasetId}.${f.name}.${f.size}.${f.lastModified}`;

/**
 * Drag-and-drop (or pick) a file and upload it as a new version with the SDK's resumable multipart
 * upload; the state is kept in localStorage after every part, so the same file dropped again after an
 * interruption sends only the missing parts. Then follows the ingestion job to its end.
 */
export function UploadCard({
  datasetId,
  task,
  onChanged,
}: {
  datasetId: string;
  task: string;
  onChanged: () => void;
}) {
  const c = useClient();
  const input = useRef<HTMLInputElement>(null);
  const [over, setOver] = useState(false);
  const [file, setFile] = useState<File>();
  const [sent, setSent] = useState<{ sent: number; total: number }>();
  const [jobId, setJobId] = useState<string>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const [resumed, setResumed] = useState(false);
  const [imageSize, setImageSize] = useState('');
  const [channels, setChannels] = useState('');
  const [textColumn, setTextColumn] = useState('');
  const [labelColumn, setLabelColumn] = useState('');
  const [target, setTarget] = useState('');
  const text = task === 'text-classification';
  const tabular = task.startsWith('tabular');
  const ingestion = useJob(c, jobId);
  const image = task === 'image-classification';

  const start = async (f: File) => {
    setFile(f);
    setError(undefined);
    setJobId(undefined);
    setSent({ sent: 0, total: f.size });
    setBusy(true);
    const key = stateKey(datasetId, f);
    const saved = localStorage.getItem(key);
    const resume = saved ? (JSON.parse(saved) as UploadState) : undefined;
    setResumed(resume !== undefined);
    const options: Record<string, unknown> = {};
    if (image && imageSize) options.imageSize = Number(imageSize);
    if (image && channels) options.channels = Number(channels);
    if (text && textColumn.trim()) options.textColumn = textColumn.trim();
    if (text && labelColumn.trim()) options.labelColumn = labelColumn.trim();
    if (tabular && target.trim()) options.target = target.trim();
    const send = (from?: UploadState) =>
      uploadDatasetBlob(c, datasetId, f, {
        ...(Object.keys(options).length ? { options } : {}),
        ...(from ? { resume: from } : {}),
        onState: (s) => localStorage.setItem(key, JSON.stringify(s)),
        onProgress: (n, total) => setSent({ sent: n, total }),
      });
    try {
      let done;
      try {
        done = await send(resume);
      } catch (e) {
        // A saved upload the API no longer knows or no longer takes (completed, aborted, expired):
        // forget it and start this file afresh.
        if (!resume || !(e instanceof ModelsmithError) || ![404, 409, 410].includes(e.status)) throw e;
        localStorage.removeItem(key);
        setResumed(false);
        done = await send();
      }
      localStorage.removeItem(key);
      setJobId(done.jobId);
      onChanged();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  const pick = (files: FileList | null | undefined) => {
    const f = files?.[0];
    if (f && !busy) void start(f);
  };
  const job = ingestion.job;
  const ended = isTerminal(job);
  useEffect(() => {
    if (ended) onChanged(); // the version is READY (or FAILED): show it
  }, [ended]);

  return (
    <Section title="Upload a new version">
      <p class="muted">
        {image
          ? 'A zip of images, one folder per class (or a labels CSV inside the zip).'
          : 'A CSV or JSONL file (or a zip of them).'}{' '}
        Large files go up in parts and resume where they stopped if the same file is dropped again.
      </p>
      {image && (
        <div class="row">
          <div class="field">
            <label for="up-size">Image size (pixels)</label>
            <select id="up-size" value={imageSize} onChange={(e) => setImageSize(e.currentTarget.value)}>
              <option value="">platform default</option>
              {[28, 32, 64, 96, 128, 160, 224].map((s) => (
                <option key={s} value={String(s)}>
                  {s}
                </option>
              ))}
            </select>
          </div>
          <div class="field">
            <label for="up-channels">Colour</label>
            <select id="up-channels" value={channels} onChange={(e) => setChannels(e.currentTarget.value)}>
              <option value="">detect</option>
              <option value="1">grayscale</option>
              <option value="3">RGB</option>
            </select>
          </div>
        </div>
      )}
      {(text || tabular) && (
        <div class="row">
          {text && (
            <>
              <div class="field">
                <label for="up-text-column">Text column</label>
                <input
                  id="up-text-column"
                  maxLength={200}
                  placeholder="detected"
                  value={textColumn}
                  onInput={(e) => setTextColumn(e.currentTarget.value)}
                />
              </div>
              <div class="field">
                <label for="up-label-column">Label column</label>
                <input
                  id="up-label-column"
                  maxLength={200}
                  placeholder="detected"
                  value={labelColumn}
                  onInput={(e) => setLabelColumn(e.currentTarget.value)}
                />
              </div>
            </>
          )}
          {tabular && (
            <div class="field">
              <label for="up-target">Target column</label>
              <input
                id="up-target"
                maxLength={200}
                placeholder="chosen when training"
                value={target}
                onInput={(e) => setTarget(e.currentTarget.value)}
              />
            </div>
          )}
        </div>
      )}
      <div
        class={`dropzone${over ? ' over' : ''}`}
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={(e) => {
          e.preventDefault();
          setOver(false);
          pick(e.dataTransfer?.files);
        }}
      >
        <p>Drop a file here, or</p>
        <label class="button" for="upload-file">
          Choose a file
        </label>
        <input
          ref={input}
          id="upload-file"
          class="visually-hidden"
          type="file"
          accept={image ? '.zip,.tar,.tgz,.gz,application/zip' : '.csv,.jsonl,.json,.zip,.tsv,.txt'}
          disabled={busy}
          onChange={(e) => pick(e.currentTarget.files)}
        />
      </div>
      {file && sent && (
        <div aria-live="polite">
          <p>
            {file.name} ({bytes(file.size)}){resumed ? ', resuming an interrupted upload' : ''}
          </p>
          <Progress
            label="Upload"
            value={sent.total ? (sent.sent / sent.total) * 100 : 100}
            detail={`${bytes(sent.sent)} of ${bytes(sent.total)} sent`}
          />
          {job && (
            <Progress
              label="Ingestion"
              value={job.percent}
              detail={`ingestion ${job.status.toLowerCase()}${job.stage ? `: ${job.stage}` : ''}`}
            />
          )}
        </div>
      )}
      <ErrorNote error={error ?? ingestion.error} />
    </Section>
  );
}
