/**
 * README.md of a downloaded model's zip, written from its manifest.json (the fields the platform's
 * own serving reads): how to turn an image into the model's input, and how the platform gets class
 * probabilities from the model's output, test-time averaging included. Plain text: the API process
 * loads no TensorFlow.js.
 */
export function modelReadme(name: string, manifest: Record<string, unknown> | null): string {
  const m = manifest ?? {};
  const classes = Array.isArray(m.classNames) ? (m.classNames as unknown[]).map(String) : [];
  const input = (m.input ?? {}) as Record<string, unknown>;
  const lines = [
    `# ${name}`,
    '',
    'Exported by Modelsmith: `manifest.json` describes the model, `evaluation.json` is its evaluation report.',
  ];
  if (classes.length > 0)
    lines.push(
      '',
      `Classes, in the order of the model's outputs: ${classes.map((c, i) => `${i} \`${c}\``).join(', ')}.`,
    );
  if (input.kind !== 'image') return `${lines.join('\n')}\n`;
  const norm = (m.normalization ?? {}) as Record<string, unknown>;
  const trainedFrom = input.trainedFrom as { height?: number; width?: number } | undefined;
  const normText: Record<string, string> = {
    unit: 'v / 255',
    symmetric: 'v / 127.5 - 1',
    raw: 'v (unchanged, 0..255)',
    meanStd: `(v / 255 - mean[c]) / std[c] with mean ${JSON.stringify(norm.mean)} and std ${JSON.stringify(norm.std)}`,
  };
  lines.push(
    '',
    '## Input',
    '',
    `A TensorFlow.js layers model (\`tf.loadLayersModel('file://.../model.json')\`) taking a batch of` +
      ` ${String(input.height)}x${String(input.width)} images with ${String(input.channels)} channel(s), HWC, float32:`,
    '',
    `1. decode the image to ${input.channels === 1 ? 'grayscale' : 'RGB'} pixels v in 0..255;`,
    trainedFrom
      ? `2. fit it to ${String(trainedFrom.height)}x${String(trainedFrom.width)} (\`${String(input.fit)}\`), then resize it bilinearly to ${String(input.height)}x${String(input.width)};`
      : `2. fit it to ${String(input.height)}x${String(input.width)} (\`${String(input.fit)}\`: cover crops, contain pads, fill stretches);`,
    `3. normalize each value: ${normText[String(norm.kind)] ?? JSON.stringify(norm)}.`,
  );
  const tta = Array.isArray(m.tta) ? (m.tta as unknown[]).map(String) : [];
  lines.push('', '## Class probabilities', '');
  if (tta.length === 0) {
    lines.push('`model.predict(x)`: its output is the class probabilities (softmax).');
  } else {
    const view: Record<string, string> = {
      mirror: '`mirror`: the input with its columns reversed (`tf.reverse(x, 2)`)',
      gray: '`gray`: the luma of the pixel values (0.299 R + 0.587 G + 0.114 B, normalization undone per channel first) in all three channels, normalized again',
    };
    lines.push(
      `This model averages at test time (manifest.json \`tta\`: ${tta.map((v) => `\`${v}\``).join(', ')}): the platform's`,
      'evaluation, serving and batch prediction take the class probabilities as the mean of `model.predict`',
      'over the input and each of these views of it:',
      '',
      ...tta.map((v) => `- ${view[v] ?? `\`${v}\``};`),
      '',
      'Its evaluation report is of these averaged probabilities; `model.predict(x)` on the input alone gives',
      'the answer without the averaging (one pass per image instead of one per view).',
    );
  }
  return `${lines.join('\n')}\n`;
}
