// A second text domain for continual pre-training: generated cooking recipes. It looks nothing like
// the verse corpus the GPT was pre-trained on (examples/shared/corpus.ts) — a title line, a
// "Serves" line, then long lines of imperative prose about ingredients, quantities spelled out,
// heat and time — yet it is written with the characters that corpus already has (no digits, no j,
// x, z, no capital J, V, X, Z), so the pre-trained tokenizer covers it as it is.
import { seededRandom } from '@webgrad/core';

const DISHES = [
  'barley soup', 'onion tart', 'apple cake', 'lentil stew', 'potato bake', 'leek pie', 'mushroom broth',
  'honey bread', 'carrot salad', 'bean pot', 'pear crumble', 'fish pie', 'rice pudding', 'pea soup',
  'herb omelette', 'cheese scones', 'plum sauce', 'roast chicken', 'butter biscuits', 'tomato pasta',
];
const INGREDIENTS = [
  'flour', 'butter', 'onions', 'carrots', 'leeks', 'garlic', 'barley', 'lentils', 'apples', 'honey',
  'cream', 'eggs', 'milk', 'sugar', 'salt', 'pepper', 'thyme', 'parsley', 'mushrooms', 'potatoes',
  'beans', 'rice', 'cheese', 'lemon', 'stock', 'oats', 'pears', 'plums', 'tomatoes', 'peas',
];
const AMOUNTS = [
  'one cup of', 'two cups of', 'three cups of', 'half a cup of', 'a pinch of', 'a handful of', 'two spoons of',
  'a spoon of', 'four ounces of', 'a little', 'a generous knob of', 'a splash of', 'a pound of', 'five',
];
const PREP = ['Chop', 'Slice', 'Dice', 'Grate', 'Peel', 'Wash', 'Crush', 'Rinse', 'Halve', 'Trim'];
const COOK = ['Simmer', 'Bake', 'Roast', 'Stir', 'Fry', 'Boil', 'Steam', 'Brown', 'Warm', 'Poach'];
const VESSEL = ['a wide pan', 'a deep pot', 'a bowl', 'a baking dish', 'a heavy pan', 'a small saucepan', 'a tin'];
const HEAT = ['a low heat', 'a gentle heat', 'a medium heat', 'a hot oven', 'a moderate oven', 'a high heat'];
const TIME = ['five minutes', 'ten minutes', 'twenty minutes', 'half an hour', 'forty minutes', 'an hour', 'two hours'];
const NUMBER = ['two', 'four', 'five', 'eight'];
const FINISH = [
  'Serve hot with bread.', 'Serve warm with cream.', 'Leave to cool before slicing.', 'Season well and serve at once.',
  'Keep in a cool place for three days.', 'Scatter with parsley and serve.', 'Serve with a green salad.',
];

type Pick = <T>(xs: readonly T[]) => T;

/** Sentence templates of a method paragraph. */
const STEPS: readonly ((p: Pick) => string)[] = [
  (p) => `${p(PREP)} the ${p(INGREDIENTS)} and the ${p(INGREDIENTS)}.`,
  (p) => `Melt ${p(AMOUNTS)} ${p(INGREDIENTS)} in ${p(VESSEL)} over ${p(HEAT)}.`,
  (p) => `Add ${p(AMOUNTS)} ${p(INGREDIENTS)} and stir until soft.`,
  (p) => `${p(COOK)} for ${p(TIME)}, stirring now and then.`,
  (p) => `Whisk ${p(AMOUNTS)} ${p(INGREDIENTS)} with ${p(AMOUNTS)} ${p(INGREDIENTS)} in ${p(VESSEL)}.`,
  (p) => `Pour in ${p(AMOUNTS)} ${p(INGREDIENTS)} and bring to the boil.`,
  (p) => `Fold in the ${p(INGREDIENTS)}, then ${p(COOK).toLowerCase()} in ${p(HEAT)} for ${p(TIME)}.`,
  (p) => `Season with ${p(AMOUNTS)} ${p(INGREDIENTS)}; taste, and add more if needed.`,
];

export interface RecipeOptions {
  /** Approximate length in characters (default 200 000). */
  chars?: number;
  seed?: number;
}

/** Recipes separated by blank lines: "Recipe: <dish>", "Serves <n>.", a method of 4–7 sentences. */
export function generateRecipes(opts: RecipeOptions = {}): string {
  const target = opts.chars ?? 200_000;
  const rand = seededRandom(opts.seed ?? 2024);
  const pick: Pick = (xs) => xs[Math.floor(rand() * xs.length)]!;
  const parts: string[] = [];
  let length = 0;
  while (length < target) {
    const n = 4 + Math.floor(rand() * 4);
    const method = Array.from({ length: n }, () => pick(STEPS)(pick));
    // Two sentences a line: long lines, unlike the verse's short ones.
    const lines: string[] = [];
    for (let i = 0; i < method.length; i += 2) lines.push(method.slice(i, i + 2).join(' '));
    const recipe = `Recipe: ${pick(DISHES)}\nServes ${pick(NUMBER)}.\n${lines.join('\n')}\n${pick(FINISH)}\n\n`;
    parts.push(recipe);
    length += recipe.length;
  }
  return parts.join('');
}
