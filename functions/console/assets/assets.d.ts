// The page's files are imported as text (esbuild's `with { type: 'text' }`); see page.ts.
declare module '*.html' {
  const text: string;
  export default text;
}
declare module '*.css' {
  const text: string;
  export default text;
}
