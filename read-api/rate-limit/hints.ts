import type { Knex } from 'knex';
import type { MigrationSet } from '../../eventstore/postgres/migrations.ts';

// What admission decided for a generation (its tier's priority, brownout), read by the saga when it
// records GenerationRequested. A side table, not an event: it is written before the turn is
// appended (a rejected request appends nothing) and only colours the request the saga records.
export const admissionMigrations: MigrationSet = {
  name: 'admissions',
  migrations: {
    '001_generation_admissions': {
      async up(knex) {
        await knex.raw(`
          create table generation_admissions (
            generation_id text primary key,
            tier text not null,
            priority int not null,
            brownout boolean not null,
            created_at timestamptz not null default now()
          );
          create index generation_admissions_created on generation_admissions (created_at);
        `);
      },
      async down(knex) {
        await knex.raw('drop table generation_admissions');
      },
    },
  },
};

export type AdmissionHint = { priority: number; brownout: boolean };

export class AdmissionHints {
  constructor(private readonly knex: Knex) {}

  async put(generationId: string, tier: string, hint: AdmissionHint): Promise<void> {
    await this.knex('generation_admissions').insert({ generation_id: generationId, tier, ...hint }).onConflict('generation_id').ignore();
  }

  async get(generationId: string): Promise<AdmissionHint | null> {
    const row = await this.knex('generation_admissions').where({ generation_id: generationId }).first('priority', 'brownout');
    return row ? { priority: row.priority, brownout: row.brownout } : null;
  }

  /** many generations' hints in one query (the saga's batch) */
  async getMany(generationIds: readonly string[]): Promise<Map<string, AdmissionHint>> {
    if (generationIds.length === 0) return new Map();
    const rows: { generation_id: string; priority: number; brownout: boolean }[] = await this.knex('generation_admissions')
      .whereIn('generation_id', generationIds as string[]).select('generation_id', 'priority', 'brownout');
    return new Map(rows.map((r) => [r.generation_id, { priority: r.priority, brownout: r.brownout }]));
  }

  async delete(generationId: string): Promise<void> {
    await this.knex('generation_admissions').where({ generation_id: generationId }).delete();
  }

  /** hints older than a day have long been used by the saga */
  async prune(): Promise<void> {
    await this.knex('generation_admissions').where('created_at', '<', this.knex.raw(`now() - interval '1 day'`)).delete();
  }
}
