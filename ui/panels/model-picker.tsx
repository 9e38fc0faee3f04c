/**
 * The models one backend can serve, opened with `m` in place of the backend list: ↑↓ and enter
 * pick one (store.switchTo(backend, model)), esc goes back without switching.
 */
import { memo, type ReactNode } from 'react';
import { Box } from 'ink';
import type { BackendView } from '../../src/run/run-state.js';
import { Cells, Title } from '../cells.js';
import { shortModel } from '../format.js';
import { scrollWindow, type Demand } from '../layout.js';

export interface ModelPickerProps {
  backend: BackendView;
  /** Index into backend.models. */
  cursor: number;
  width: number;
  height: number;
}

export function modelPickerDemand(backend: BackendView): Demand {
  return { min: 2, want: 1 + Math.max(1, backend.models.length) };
}

/** Where the cursor starts: on the model in use, so enter alone changes nothing surprising. */
export function initialModelCursor(backend: BackendView): number {
  return Math.max(0, backend.model === undefined ? 0 : backend.models.indexOf(backend.model));
}

function Models({ backend, cursor, width, height }: ModelPickerProps): ReactNode {
  if (height <= 0) return null;
  const { models } = backend;
  const { first, shown } = scrollWindow(models.length, cursor, height - 1);
  const position = models.length > shown ? ` (${cursor + 1}/${models.length})` : '';
  return (
    <Box flexDirection="column" width={width}>
      <Title text={`Models of ${backend.id}${position}`} note="↑↓ select · enter use · esc cancel" width={width} />
      {models.slice(first, first + shown).map((model, i) => {
        const index = first + i;
        const current = model === backend.model;
        return (
          <Cells
            key={model}
            width={width}
            cells={[
              { text: index === cursor ? '›' : ' ', width: 1, bold: true, tone: { color: 'cyan' } },
              { text: shortModel(model, Math.max(8, width - 14)), bold: index === cursor, tone: current ? { color: 'green' } : {} },
              { text: current ? 'in use' : '', width: 6, tone: { dimColor: true } },
            ]}
          />
        );
      })}
    </Box>
  );
}

export const ModelPicker = memo(Models);
