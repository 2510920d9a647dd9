import { scramSha256Verifier, scramVerifierMatches } from './scram';

// Produced by PostgreSQL 15: CREATE ROLE probe PASSWORD 'pencil'; SELECT rolpassword FROM pg_authid.
const POSTGRES_VERIFIER =
  'SCRAM-SHA-256$4096:4W46IHg7RbDqpWsFdz/Xkw==$fuCzs/ns3pIuTcldgfsQ3I+SJulFqx1rHskkgl+eyJ0=:sqM8X1F8zbV7nyBYCsRmuuRk9A9vcpiYJueroVSzgLY=';

describe('SCRAM-SHA-256 verifier', () => {
  it('derives exactly what PostgreSQL stores for the same password and salt', () => {
    expect(scramSha256Verifier('pencil', Buffer.from('4W46IHg7RbDqpWsFdz/Xkw==', 'base64'))).toBe(
      POSTGRES_VERIFIER,
    );
    expect(scramVerifierMatches(POSTGRES_VERIFIER, 'pencil')).toBe(true);
  });

  it('rejects another password, a malformed verifier and null', () => {
    const v = scramSha256Verifier('right password');
    expect(scramVerifierMatches(v, 'right password')).toBe(true);
    expect(scramVerifierMatches(v, 'wrong password')).toBe(false);
    expect(scramVerifierMatches(POSTGRES_VERIFIER, 'Pencil')).toBe(false);
    expect(scramVerifierMatches('md5abcdef', 'right password')).toBe(false);
    expect(scramVerifierMatches(null, 'right password')).toBe(false);
  });
});
