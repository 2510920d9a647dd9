import { databaseName, redactUrl, withCredentials, withDatabase } from './database-url';

describe('database URL helpers', () => {
  const url = 'postgresql://root:s3cret@db.example:5433/modelsmith?sslmode=require';

  it('reads and replaces the database, keeping everything else', () => {
    expect(databaseName(url)).toBe('modelsmith');
    expect(withDatabase(url, 'postgres')).toBe(
      'postgresql://root:s3cret@db.example:5433/postgres?sslmode=require',
    );
  });

  it('swaps credentials, encoding special characters', () => {
    expect(withCredentials(url, 'modelsmith_app', 'p@ss/word')).toBe(
      'postgresql://modelsmith_app:p%40ss%2Fword@db.example:5433/modelsmith?sslmode=require',
    );
  });

  it('redacts the password', () => {
    expect(redactUrl(url)).toBe('postgresql://root:***@db.example:5433/modelsmith?sslmode=require');
    expect(redactUrl('not a url')).toBe('<invalid url>');
  });

  it('refuses a URL without a database', () => {
    expect(() => databaseName('postgresql://root@localhost:5432')).toThrow(/names no database/);
  });
});
