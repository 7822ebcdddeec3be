import { prepareFixtures } from './fixtures.js';

export default function setup(): void {
  prepareFixtures();
}
