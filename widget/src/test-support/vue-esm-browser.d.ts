// Tests import Vue's own browser ES build (no bundler in the test runner); its API is Vue's.
declare module 'vue/dist/vue.esm-browser.prod.js' {
  export * from 'vue';
}
