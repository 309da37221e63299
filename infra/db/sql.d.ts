// esbuild's text loader (custom.esbuild.loader in serverless.yml) turns an imported .sql file into its text.
declare module '*.sql' {
  const text: string;
  export default text;
}
