// console.js is the page's browser script, imported as text by page.ts (not run on the server).
declare const text: string;
export default text;
