// SARIF 2.1.0 output for code-scanning services (GitHub, Azure DevOps). The only module that
// knows SARIF; see https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { allRules, docsUrl, type Range, type Severity } from '../../engine';
import type { FileNotice } from '../lintFile';
import { relatedDisplay, type Reporter, type Write } from './reporter';

export const SARIF_SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json';
export const INFORMATION_URI = 'https://github.com/nabla-lint/nabla';
/** Relative artifact URIs are resolved against this base, which points at the working folder. */
const SRCROOT = '%SRCROOT%';

type SarifLevel = 'error' | 'warning' | 'note';

// SARIF has no "information" or "hint" level; both are notes.
const levels: Record<Severity, SarifLevel> = { error: 'error', warning: 'warning', information: 'note', hint: 'note' };

interface SarifRegion {
  startLine: number;
  startColumn: number;
  endLine: number;
  endColumn: number;
}

interface SarifArtifactLocation {
  uri: string;
  uriBaseId?: string;
}

interface SarifPhysicalLocation {
  artifactLocation: SarifArtifactLocation;
  region?: SarifRegion;
}

interface SarifLocation {
  id?: number;
  physicalLocation: SarifPhysicalLocation;
  message?: { text: string };
}

interface SarifResult {
  ruleId: string;
  ruleIndex?: number;
  level: SarifLevel;
  message: { text: string };
  locations: SarifLocation[];
  relatedLocations?: SarifLocation[];
  fixes?: {
    description: { text: string };
    artifactChanges: {
      artifactLocation: SarifArtifactLocation;
      replacements: { deletedRegion: SarifRegion; insertedContent: { text: string } }[];
    }[];
  }[];
  properties?: Record<string, unknown>;
}

interface SarifNotification {
  level: SarifLevel;
  message: { text: string };
  locations: SarifLocation[];
}

/** Regions are 1-based with an exclusive end column, matching the engine's ranges plus one. */
function region(range: Range): SarifRegion {
  return {
    startLine: range.start.line + 1,
    startColumn: range.start.character + 1,
    endLine: range.end.line + 1,
    endColumn: range.end.character + 1,
  };
}

/** A relative URI reference (forward slashes, percent-encoded) for a path as displayed. */
export function artifactLocation(display: string): SarifArtifactLocation {
  if (path.isAbsolute(display)) return { uri: pathToFileURL(display).href };
  const normalized = path.posix.normalize(display);
  return { uri: normalized.split('/').map(encodeURIComponent).join('/'), uriBaseId: SRCROOT };
}

export function sarifRules() {
  return allRules.map((rule) => ({
    id: rule.meta.code,
    name: rule.meta.name,
    shortDescription: { text: rule.meta.summary },
    helpUri: docsUrl(rule.meta.code),
    defaultConfiguration: { level: levels[rule.meta.severity] },
  }));
}

/** `cwd`: the working folder, the run's %SRCROOT% and what related places are relative to. */
export function sarifReporter(write: Write, version: string, cwd: string = process.cwd()): Reporter {
  const results: SarifResult[] = [];
  const notifications: SarifNotification[] = [];
  const ruleIndex = new Map(allRules.map((rule, index) => [rule.meta.code, index]));

  function noticeLevel(notice: FileNotice): SarifLevel {
    return notice.kind === 'parse-error' ? 'note' : notice.kind === 'internal-error' ? 'error' : 'warning';
  }

  return {
    file(display, result) {
      const artifact = artifactLocation(display);
      for (const finding of result.findings) {
        const sarif: SarifResult = {
          ruleId: finding.code,
          ruleIndex: ruleIndex.get(finding.code),
          level: levels[finding.severity],
          message: { text: finding.message },
          locations: [{ physicalLocation: { artifactLocation: artifact, region: region(finding.range) } }],
        };
        if (sarif.ruleIndex === undefined) delete sarif.ruleIndex;
        if (finding.related.length > 0) {
          sarif.relatedLocations = finding.related.map((related, id) => ({
            id,
            physicalLocation: { artifactLocation: related.path === undefined ? artifact : artifactLocation(relatedDisplay(display, related, cwd)), region: region(related.range) },
            message: { text: related.message },
          }));
        }
        if (finding.fix) {
          sarif.fixes = [
            {
              description: { text: finding.fix.title },
              artifactChanges: [
                {
                  artifactLocation: artifact,
                  replacements: finding.fix.edits.map((edit) => ({ deletedRegion: region(edit.range), insertedContent: { text: edit.newText } })),
                },
              ],
            },
          ];
          sarif.properties = { fixSafety: finding.fix.safety };
        }
        // SARIF has no notion of notebook cells: the region is within the cell named here (1-based).
        if (finding.cell !== undefined) sarif.properties = { ...sarif.properties, cell: finding.cell + 1 };
        results.push(sarif);
      }
      for (const notice of result.notices) {
        notifications.push({
          level: noticeLevel(notice),
          message: { text: notice.message },
          locations: [{ physicalLocation: { artifactLocation: artifact } }],
        });
      }
    },
    finish({ hadErrors }) {
      const log = {
        $schema: SARIF_SCHEMA,
        version: '2.1.0',
        runs: [
          {
            tool: { driver: { name: 'nabla', version, informationUri: INFORMATION_URI, rules: sarifRules() } },
            originalUriBaseIds: { [SRCROOT]: { uri: pathToFileURL(cwd + path.sep).href } },
            // The engine counts columns in UTF-16 code units (as LSP and JavaScript do).
            columnKind: 'utf16CodeUnits',
            invocations: [{ executionSuccessful: !hadErrors, toolExecutionNotifications: notifications }],
            results,
          },
        ],
      };
      write(`${JSON.stringify(log, null, 2)}\n`);
    },
  };
}
