/** The one file of the optional peer `swagger-ui-dist` the gateway loads in Node: where its browser files are. */
declare module "swagger-ui-dist/absolute-path.js" {
  const getAbsoluteFSPath: () => string;
  export default getAbsoluteFSPath;
}
