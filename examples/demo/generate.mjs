#!/usr/bin/env node
// Generates the demo corpus (examples/demo/corpus.jsonl) and the judged query
// set (evals/demo.judged.jsonl) for `npm run demo`.
//
// Everything here is hand-written: product specs, support articles, policy
// sections, invoice scenarios and the queries with their judgments. The only
// randomness is a seeded PRNG that picks sentence variants and the background
// invoices, so the output is byte-for-byte deterministic.
//
//   node examples/demo/generate.mjs          # rewrite both files
//   node examples/demo/check.mjs             # sanity checks + lexical baseline

import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');

// ---------------------------------------------------------------- utilities

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rng = mulberry32(20240611);
const pick = (arr) => arr[Math.floor(rng() * arr.length)];
const int = (lo, hi) => lo + Math.floor(rng() * (hi - lo + 1));
const pad = (n, w = 3) => String(n).padStart(w, '0');
const money = (c) => '$' + (c / 100).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

const COMPANY = 'Ridgeline Outfitters';
const docs = [];
function addDoc(prefix, segment, title, text, metadata = {}) {
  const n = docs.filter((d) => d.metadata.segment === segment).length + 1;
  const id = `${prefix}-${pad(n)}`;
  // paragraphs are separated by a blank line; whitespace inside a paragraph is collapsed
  const clean = text
    .split(/\n\s*\n/)
    .map((p) => p.replace(/\s+/g, ' ').trim())
    .filter(Boolean)
    .join('\n\n');
  docs.push({ id, title, text: clean, metadata: { segment, ...metadata } });
  return id;
}

// ----------------------------------------------------------------- products
// [sku, name, price in USD, lead sentence, spec sentences]
const CATEGORIES = [
  {
    key: 'tents',
    label: 'Tent',
    uses: [
      'It is a good fit for backpacking trips where every gram counts but you still want room to sit up.',
      'Campers use it for weekend trips to state parks, festival camping and multi-day treks alike.',
      'The vestibules keep wet boots and packs out of the sleeping area when the weather turns.',
      'Color-coded clips and poles make the first pitch easy, even in the dark.',
    ],
    extras: [
      'Includes stuff sack, aluminum stakes and guylines; a footprint is sold separately.',
      'Seams are factory taped. Re-seal the fly every few seasons with a silicone seam sealer.',
    ],
    items: [
      [
        'RL-TN-2201',
        'Summit Ridge 2 Tent',
        349,
        'The Summit Ridge 2 is a freestanding two-person, three-season backpacking tent.',
        'Packed weight is 1.9 kg (4 lb 3 oz), floor area 2.7 m², peak height 104 cm, with two doors and two vestibules. The fly is 20D silicone-coated ripstop nylon with a 1,500 mm hydrostatic head.',
      ],
      [
        'RL-TN-2301',
        'Summit Ridge 3 Tent',
        429,
        'The Summit Ridge 3 is the three-person version of our freestanding three-season backpacking tent.',
        'Packed weight is 2.3 kg (5 lb 1 oz), floor area 3.9 m², peak height 112 cm, two doors and two vestibules. Same 20D silicone-coated ripstop fly with a 1,500 mm hydrostatic head as the two-person model.',
      ],
      [
        'RL-TN-2405',
        'Alpine Fortress 2 Tent',
        649,
        'The Alpine Fortress 2 is a four-season mountaineering tent built for snow loads and high winds above the tree line.',
        'Four crossing DAC aluminum poles, 40D fly with a 3,000 mm coating, snow flaps, and a packed weight of 2.8 kg. Two people fit with winter gear inside.',
      ],
      [
        'RL-TN-1110',
        'Trailhead UL 1 Tent',
        289,
        'The Trailhead UL 1 is an ultralight one-person shelter that pitches with a single trekking pole.',
        'It weighs 980 g (2 lb 2 oz) with stakes, uses a 15D Dyneema-reinforced fly and a bathtub floor, and packs to the size of a water bottle. Not freestanding: it needs stakes in the ground.',
      ],
      [
        'RL-TN-1210',
        'Trailhead UL 2 Tent',
        359,
        'The Trailhead UL 2 is the two-person ultralight shelter, pitched with two trekking poles.',
        'It weighs 1.25 kg (2 lb 12 oz), has two side doors and a 15D fly. Like the UL 1 it is not freestanding and needs good staking in loose ground.',
      ],
      [
        'RL-TN-6600',
        'Basecamp Family 6 Tent',
        499,
        'The Basecamp Family 6 is a cabin-style car camping tent with near-vertical walls and a removable room divider.',
        'Sleeps six, 210 cm peak height, 9.3 m² floor, 8.4 kg packed weight, large mesh windows, an electrical cord port and a screened porch.',
      ],
      [
        'RL-TN-6400',
        'Basecamp Family 4 Tent',
        379,
        'The Basecamp Family 4 is our four-person cabin tent for car camping and campground stays.',
        'Peak height 195 cm, floor 6.5 m², 6.9 kg packed weight, one large D-door, gear loft and an electrical cord port.',
      ],
      [
        'RL-TN-2050',
        'Canyon Dome 2 Tent',
        149,
        'The Canyon Dome 2 is an affordable two-person dome tent for beginners and occasional campers.',
        'Polyester fly with 1,200 mm coating, fiberglass poles, one door, 2.6 kg packed. Heavier than our backpacking tents but tough and simple to set up.',
      ],
    ],
  },
  {
    key: 'sleeping-bags',
    label: 'Sleeping bag',
    uses: [
      'Temperature ratings follow the ISO 23537 standard; the comfort rating is the one most sleepers should plan around.',
      'A full-length two-way zipper lets you vent on warm nights and zip two compatible bags together.',
      'It compresses small enough to fit in the bottom compartment of most backpacks.',
    ],
    extras: [
      'Store it loose in the included cotton storage sack, never compressed for long periods.',
      'Machine wash on a gentle cycle with a down-specific or technical wash and tumble dry low.',
    ],
    items: [
      [
        'RL-SB-0820',
        'Ember 20 Down Sleeping Bag',
        379,
        'The Ember 20 is a mummy-shaped down sleeping bag for three-season backpacking.',
        '800-fill-power responsibly sourced down, comfort rating -1 °C (30 °F), limit rating -7 °C (20 °F), 850 g total weight, regular length fits up to 183 cm.',
      ],
      [
        'RL-SB-0821',
        'Ember 20 Long Down Sleeping Bag',
        399,
        'The Ember 20 Long is the long-length version of our three-season down mummy bag.',
        'Same 800-fill down and -7 °C (20 °F) limit rating as the regular Ember 20, fits sleepers up to 198 cm, 910 g total weight.',
      ],
      [
        'RL-SB-0800',
        'Ember 0 Down Sleeping Bag',
        529,
        'The Ember 0 is a winter down sleeping bag for cold-weather camping and shoulder-season mountaineering.',
        '800-fill down, limit rating -18 °C (0 °F), draft collar, insulated zipper baffle and a 1.3 kg total weight.',
      ],
      [
        'RL-SB-4040',
        'Drift 40 Synthetic Sleeping Bag',
        89,
        'The Drift 40 is a lightweight synthetic sleeping bag for summer camping and hostels.',
        'Synthetic insulation keeps warmth when damp; limit rating 4 °C (40 °F), rectangular shape that unzips into a quilt, 1.1 kg.',
      ],
      [
        'RL-SB-3030',
        'Drift 30 Synthetic Sleeping Bag',
        119,
        'The Drift 30 is a synthetic mummy bag for damp climates and budget-minded backpackers.',
        'Limit rating -1 °C (30 °F), 1.4 kg, hydrophobic synthetic fill that dries fast, hood with drawcord.',
      ],
      [
        'RL-SB-1050',
        'Cocoon Kids Sleeping Bag',
        59,
        'The Cocoon Kids is a synthetic sleeping bag sized for children between 120 and 150 cm tall.',
        'Limit rating 2 °C (35 °F), glow-in-the-dark zipper pull, anti-snag zipper and a fun printed liner.',
      ],
    ],
  },
  {
    key: 'sleeping-pads',
    label: 'Sleeping pad',
    uses: [
      'A higher R-value means more insulation from the cold ground; stack two pads for winter camping.',
      'The pad includes a pump sack that doubles as a dry bag, so you never blow moist air into it.',
    ],
    extras: ['A field repair kit with patches is included.'],
    items: [
      [
        'RL-SP-0420',
        'Loft Air Sleeping Pad',
        159,
        'The Loft is an insulated inflatable sleeping pad for three-season and winter use.',
        'R-value 4.2, 7.6 cm thick, 183 × 51 cm, 480 g, quiet fabric that does not crinkle.',
      ],
      [
        'RL-SP-0425',
        'Loft Wide Air Sleeping Pad',
        179,
        'The Loft Wide is the wide, long version of our insulated air pad for side sleepers.',
        'R-value 4.2, 7.6 cm thick, 196 × 64 cm, 620 g.',
      ],
      [
        'RL-SP-0200',
        'Foamcore Closed-Cell Pad',
        49,
        'The Foamcore is a folding closed-cell foam pad that cannot puncture.',
        'R-value 2.0, 2 cm thick, 183 × 51 cm, 410 g; use it alone in summer or under an air pad in winter.',
      ],
      [
        'RL-SP-0300',
        'Featherlite Self-Inflating Pad',
        99,
        'The Featherlite is a self-inflating foam and air pad that balances comfort and durability.',
        'R-value 3.0, 3.8 cm thick, 750 g, open the valve and it inflates itself in a few minutes.',
      ],
    ],
  },
  {
    key: 'backpacks',
    label: 'Backpack',
    uses: [
      'The adjustable torso length means one pack can be fitted to many body sizes in the store or at home.',
      'Hip belt pockets hold a phone, snacks and a map within reach while you walk.',
      'A rain cover stows in a zip pocket at the base of the pack.',
    ],
    extras: [
      'Compatible with hydration reservoirs up to 3 liters.',
      'Covered by our lifetime warranty against defects in materials and workmanship.',
    ],
    items: [
      [
        'RL-BP-3800',
        'Talus 38 Backpack',
        179,
        'The Talus 38 is a 38-liter pack for overnight trips and fast-and-light weekends.',
        'Ventilated mesh back panel, 1.3 kg, max recommended load 14 kg, front stretch pocket and ice axe loop.',
      ],
      [
        'RL-BP-4800',
        'Talus 48 Backpack',
        219,
        'The Talus 48 is the 48-liter version of the Talus for two- to three-night backpacking trips.',
        'Ventilated mesh back panel, 1.5 kg, max recommended load 18 kg, sleeping bag compartment with zip access.',
      ],
      [
        'RL-BP-6502',
        "Meridian 65 Women's Backpack",
        289,
        "The Meridian 65 Women's is a 65-liter trekking pack with a women-specific harness and hip belt.",
        'Shorter torso range, contoured shoulder straps, 2.1 kg, max load 23 kg, top lid converts into a small daypack.',
      ],
      [
        'RL-BP-6501',
        "Meridian 65 Men's Backpack",
        289,
        "The Meridian 65 Men's is a 65-liter load-hauling pack for long treks and expeditions.",
        'Adjustable torso from 43 to 56 cm, 2.2 kg, max load 25 kg, top lid converts into a small daypack.',
      ],
      [
        'RL-BP-2200',
        'Daybreak 22 Daypack',
        89,
        'The Daybreak 22 is a 22-liter daypack for hikes, commuting and travel.',
        'Padded laptop sleeve for up to 15-inch laptops, 720 g, water-resistant recycled polyester.',
      ],
      [
        'RL-BP-3010',
        'Switchback 30 Hydration Pack',
        139,
        'The Switchback 30 is a trail running and hiking hydration pack that ships with a 2.5 L reservoir.',
        'Vest-style straps with soft flask pockets, 30 liters of storage, 680 g without water.',
      ],
      [
        'RL-BP-4010',
        'Porter 40 Travel Pack',
        159,
        'The Porter 40 is a carry-on-sized 40-liter travel backpack that opens like a suitcase.',
        'Meets most airline cabin size limits (55 × 35 × 20 cm), stowable harness, lockable zippers, 1.4 kg.',
      ],
    ],
  },
  {
    key: 'headlamps',
    label: 'Headlamp',
    uses: [
      'Red light mode preserves night vision and does not blind your tent mates.',
      'A lock mode prevents the lamp from switching on inside your pack and draining the battery.',
      'Useful for night hikes, camp chores, power outages and early alpine starts.',
    ],
    extras: ['Battery life figures are measured to the ANSI FL1 standard.'],
    items: [
      [
        'RL-HL-0400',
        'Beacon 400 Headlamp',
        49,
        'The Beacon 400 is a rechargeable headlamp with a maximum output of 400 lumens.',
        'Built-in 1,500 mAh lithium-ion battery charged over USB-C, IPX4 splash resistant, 78 g, 5 brightness modes, up to 60 hours on low.',
      ],
      [
        'RL-HL-0650',
        'Beacon 650 Headlamp',
        79,
        'The Beacon 650 is a brighter, fully waterproof rechargeable headlamp with 650 lumens.',
        'USB-C rechargeable 2,400 mAh battery, IPX7 waterproof to 1 m for 30 minutes, reactive lighting that dims when you look at a map, 102 g.',
      ],
      [
        'RL-HL-0200',
        'Firefly 200 Headlamp',
        29,
        'The Firefly 200 is a simple headlamp that runs on three AAA batteries.',
        '200 lumens, IPX4, 74 g with batteries, works with alkaline, lithium or NiMH rechargeable AAA cells. Batteries included.',
      ],
      [
        'RL-HL-0300',
        'Nightjar Run 300 Headlamp',
        59,
        'The Nightjar Run 300 is a bounce-free running headlamp with a rear red safety light.',
        '300 lumens, USB-C rechargeable, 65 g, silicone-grip strap that stays put at a running pace.',
      ],
      [
        'RL-HL-0050',
        'Glow 50 Kids Headlamp',
        19,
        'The Glow 50 is a kids headlamp with a soft 50 lumen beam and a child-safe battery door.',
        'Runs on two AAA batteries, simple one-button operation, automatic shut-off after 60 minutes.',
      ],
    ],
  },
  {
    key: 'lighting',
    label: 'Lantern',
    uses: [
      'Hang it from a tent loop or stand it on the picnic table.',
      'Good for car camping, emergency kits and backyard evenings.',
    ],
    extras: ['Protected against rain (IPX4).'],
    items: [
      [
        'RL-LT-0500',
        'Campfire 500 LED Lantern',
        45,
        'The Campfire 500 is a rechargeable LED camping lantern with a warm 500 lumen glow.',
        'Dimmable from 10 to 500 lumens, up to 120 hours on low, 5,200 mAh battery with a USB output to top up a phone.',
      ],
      [
        'RL-LT-0100',
        'Lumen Collapsible Solar Lantern',
        29,
        'The Lumen is a collapsible solar lantern that packs flat and charges in the sun.',
        '100 lumens, inflatable diffuser, solar panel on top plus a USB-C port, 130 g.',
      ],
      [
        'RL-LT-0010',
        'Firefly String Lights',
        35,
        'Firefly String Lights are 5 m of warm LED camp lights powered from any USB power bank.',
        '20 LEDs, steady and flicker modes, compact reel for storage.',
      ],
    ],
  },
  {
    key: 'navigation',
    label: 'GPS device',
    uses: [
      'Download topographic maps over Wi-Fi or with the Ridgeline Connect app before you leave cell coverage.',
      'Track logs can be exported as GPX files to plan, share and review routes.',
      'Multi-band GNSS (GPS, GLONASS, Galileo) improves accuracy in canyons and under dense tree cover.',
    ],
    extras: ['Firmware updates are installed through Ridgeline Connect on a computer or phone.'],
    items: [
      [
        'RL-GP-0066',
        'Trailfinder 66 Handheld GPS',
        349,
        'The Trailfinder 66 is a rugged handheld GPS unit with preloaded topographic maps of North America.',
        '3-inch sunlight-readable display, barometric altimeter, 3-axis compass, IPX7 waterproof, up to 35 hours on two AA batteries.',
      ],
      [
        'RL-GP-0067',
        'Trailfinder 66i GPS with Satellite Messenger',
        549,
        'The Trailfinder 66i combines the Trailfinder handheld GPS with two-way satellite messaging and SOS.',
        'Send and receive text messages and trigger an interactive SOS from anywhere on the planet with an active satellite subscription. Rechargeable lithium battery, up to 35 hours in 10-minute tracking mode.',
      ],
      [
        'RL-GP-0501',
        'SOS Beacon PLB-1 Personal Locator Beacon',
        299,
        'The PLB-1 is a personal locator beacon that sends a distress signal to search-and-rescue satellites.',
        'No subscription required. 406 MHz signal with built-in GPS, 7-year battery, floats in water. Must be registered with your national beacon registry before use.',
      ],
      [
        'RL-GP-0010',
        'Baseplate Compass with Declination Adjustment',
        39,
        'A classic baseplate compass with adjustable declination and a sighting mirror.',
        'Liquid-filled capsule, luminous markings for use at night, clinometer and map scales in 1:24,000 and 1:50,000. No batteries, no signal, always works.',
      ],
    ],
  },
  {
    key: 'power',
    label: 'Portable power',
    uses: [
      'Pass-through charging lets you charge the unit and your devices at the same time.',
      'Perfect for multi-day trips, van life, festival weekends and home backup during outages.',
      'Airlines allow power banks under 100 Wh in carry-on luggage only, never in checked bags.',
    ],
    extras: ['Includes a USB-C to USB-C cable.'],
    items: [
      [
        'RL-PW-1010',
        'VoltPack 10000 Power Bank',
        39,
        'The VoltPack 10000 is a pocket-size 10,000 mAh power bank for phones and headlamps.',
        'One USB-C port (18 W in/out) and one USB-A port, 190 g, charges a typical phone about twice. Rated 37 Wh.',
      ],
      [
        'RL-PW-2065',
        'VoltPack 20000 PD Power Bank',
        79,
        'The VoltPack 20000 PD is a high-capacity 20,000 mAh power bank that can charge a laptop.',
        '65 W USB-C Power Delivery, two USB-C and one USB-A port, 420 g, rated 74 Wh, small display showing remaining percentage.',
      ],
      [
        'RL-PW-5021',
        'SunCatcher 21W Solar Panel',
        89,
        'The SunCatcher 21W is a foldable solar charger that straps to the outside of a backpack.',
        'Three monocrystalline panels, two USB-A ports with auto-restart after clouds pass, 520 g, IPX4.',
      ],
      [
        'RL-PW-5028',
        'SunCatcher 28W Solar Panel',
        119,
        'The SunCatcher 28W is the larger four-panel foldable solar charger for base camps.',
        'Four monocrystalline panels, USB-C PD 20 W plus USB-A, 690 g, kickstand for angling toward the sun.',
      ],
      [
        'RL-PW-0500',
        'Homestead 500 Portable Power Station',
        499,
        'The Homestead 500 is a 518 Wh portable power station for car camping and home backup.',
        'LiFePO4 battery rated for 3,000 cycles, 500 W pure sine wave AC outlets (1,000 W surge), 12 V car port, USB-C 100 W, recharges from a wall outlet in 2 hours or from solar panels.',
      ],
      [
        'RL-PW-1000',
        'Homestead 1000 Portable Power Station',
        899,
        'The Homestead 1000 is a 1,024 Wh power station that can run a small fridge or CPAP for days.',
        'LiFePO4 battery, 1,200 W AC output (2,400 W surge), four AC outlets, two USB-C 100 W ports, expandable with an extra battery, 12.5 kg.',
      ],
    ],
  },
  {
    key: 'communication',
    label: 'Radio',
    uses: [
      'Licence rules differ by country; check local regulations before transmitting.',
      'Keep one in your emergency kit alongside a flashlight and spare batteries.',
    ],
    extras: ['Backed by a two-year limited warranty.'],
    items: [
      [
        'RL-RD-0110',
        'Storm Watch Crank Radio',
        49,
        'The Storm Watch is an emergency weather radio you can power by hand crank, solar panel or USB.',
        'AM/FM and NOAA weather band with automatic alerts, built-in flashlight, 2,000 mAh battery that can top up a phone in an emergency.',
      ],
      [
        'RL-RD-0222',
        'Link 22 Two-Way Radios (Pair)',
        69,
        'The Link 22 is a pair of FRS two-way radios for keeping a group together on the trail or the ski hill.',
        '22 channels, range up to 5 km in open terrain, rechargeable NiMH batteries with a dual charging dock, weather alerts.',
      ],
      [
        'RL-RD-0500',
        'Link Pro GMRS Radio',
        129,
        'The Link Pro is a 5-watt GMRS handheld radio with repeater support for longer range.',
        'Requires a GMRS licence in the United States. IP67 waterproof, 2,200 mAh battery, USB-C charging.',
      ],
    ],
  },
  {
    key: 'cameras',
    label: 'Camera',
    uses: [
      'Record your rides, paddles and summit pushes without holding a camera.',
      'Footage transfers to your phone over Wi-Fi with the Ridgeline Capture app.',
    ],
    extras: ['Use a high-endurance microSD card rated U3/V30 or better.'],
    items: [
      [
        'RL-CM-4000',
        'Apex 4K Action Camera',
        299,
        'The Apex 4K is a waterproof action camera that shoots 4K video at 60 frames per second.',
        'Waterproof to 10 m without a housing, electronic image stabilization, front and rear screens, 1,720 mAh removable battery, voice control.',
      ],
      [
        'RL-CM-4001',
        'Apex 4K Mini Action Camera',
        199,
        'The Apex 4K Mini is a smaller, lighter action camera for helmets and chest mounts.',
        '4K at 30 frames per second, waterproof to 5 m, single rear touchscreen, built-in non-removable battery, 98 g.',
      ],
      [
        'RL-CM-2400',
        'WildEye 24MP Trail Camera',
        129,
        'The WildEye is a motion-activated trail camera for watching wildlife around camp or the homestead.',
        '24 MP photos and 1080p video, no-glow infrared night vision, 0.2 s trigger speed, runs on 8 AA batteries for months.',
      ],
      [
        'RL-CM-2450',
        'WildEye Cellular Trail Camera',
        229,
        'The WildEye Cellular sends trail camera photos straight to your phone over an LTE network.',
        'Same 24 MP sensor as the WildEye, LTE modem with a data plan, solar panel accessory port, location tagging.',
      ],
      [
        'RL-CM-0300',
        'NightOwl Digital Night Vision Monocular',
        249,
        'The NightOwl is a digital night vision monocular for observing wildlife after dark.',
        'Infrared illuminator with a 200 m viewing range in full darkness, 4x optical zoom, records photos and video to a microSD card.',
      ],
    ],
  },
  {
    key: 'optics',
    label: 'Binoculars',
    uses: [
      'Ideal for birding, wildlife watching, hunting and sporting events.',
      'Twist-up eyecups make them comfortable with or without glasses.',
    ],
    extras: ['Includes a neck strap, rain guard and padded carrying case.'],
    items: [
      [
        'RL-OP-1042',
        'Vista 10x42 Binoculars',
        229,
        'The Vista 10x42 are full-size roof prism binoculars with 10x magnification.',
        'Fully multi-coated lenses, phase-corrected BaK-4 prisms, nitrogen purged and fogproof, waterproof, 690 g.',
      ],
      [
        'RL-OP-0842',
        'Vista 8x42 Binoculars',
        219,
        'The Vista 8x42 offer a wider field of view and a steadier image than the 10x model.',
        'Same fully multi-coated optics and waterproof, fogproof body as the Vista 10x42, 8x magnification, 132 m field of view at 1,000 m.',
      ],
      [
        'RL-OP-0825',
        'Pocket 8x25 Compact Binoculars',
        89,
        'The Pocket 8x25 are compact folding binoculars that fit a jacket pocket.',
        '8x magnification, 25 mm objective lenses, 310 g, water resistant.',
      ],
      [
        'RL-OP-2060',
        'Outlook 20-60x80 Spotting Scope',
        449,
        'The Outlook is an angled spotting scope with 20-60x zoom for shorebirds and long-range wildlife viewing.',
        '80 mm objective, ED glass to reduce color fringing, comes with a tabletop tripod and a smartphone adapter.',
      ],
    ],
  },
  {
    key: 'audio',
    label: 'Audio',
    uses: [
      'Bluetooth 5.3 connects to phones and tablets up to 30 m away.',
      'Built for dust, sand, rain and the occasional drop.',
    ],
    extras: ['Charges over USB-C.'],
    items: [
      [
        'RL-AU-0067',
        'Boulder Rugged Bluetooth Speaker',
        129,
        'The Boulder is a rugged, waterproof Bluetooth speaker for campsites and beach days.',
        'IP67 dustproof and waterproof, floats, 20 W stereo sound, 24-hour battery, pairs with a second Boulder for stereo.',
      ],
      [
        'RL-AU-0068',
        'Boulder Mini Bluetooth Speaker',
        69,
        'The Boulder Mini is a pocket-size version of our rugged Bluetooth speaker with a carabiner clip.',
        'IP67 waterproof, 5 W mono sound, 12-hour battery.',
      ],
      [
        'RL-AU-0110',
        'Stride Open-Ear Sport Headphones',
        119,
        'Stride are open-ear bone conduction headphones that keep you aware of traffic and trail sounds.',
        'IP55 sweat resistant, 8-hour battery, multipoint Bluetooth to two devices, 29 g.',
      ],
      [
        'RL-AU-0220',
        'TrailBuds True Wireless Earbuds',
        99,
        'TrailBuds are true wireless earbuds with ear hooks that stay in on rough trails.',
        'IPX5 water resistant, 7 hours plus 21 hours from the charging case, transparency mode, touch controls.',
      ],
    ],
  },
  {
    key: 'cooking',
    label: 'Camp kitchen',
    uses: [
      'Uses standard isobutane-propane threaded canisters (EN 417).',
      'Always cook outside or in a well-ventilated vestibule; never inside a closed tent.',
    ],
    extras: ['Fuel is sold separately and cannot be shipped by air.'],
    items: [
      [
        'RL-CK-0100',
        'Jetflame Integrated Stove System',
        139,
        'The Jetflame is an integrated canister stove system that boils a liter of water in about 100 seconds.',
        'Heat-exchanger 1 L cooking cup with insulating cozy, push-button igniter, canister stand, 400 g.',
      ],
      [
        'RL-CK-0050',
        'Spark Titanium Backpacking Stove',
        59,
        'The Spark is a tiny titanium stove that screws onto a fuel canister.',
        '73 g, boils 1 L in about 3.5 minutes, serrated pot supports, adjustable flame for simmering.',
      ],
      [
        'RL-CK-0200',
        'Basecamp Two-Burner Camp Stove',
        149,
        'The Basecamp is a two-burner propane camp stove for car camping and group cooking.',
        'Two 10,000 BTU burners, wind guards, runs on 1 lb propane cylinders or a bulk tank with an adapter hose.',
      ],
      [
        'RL-CK-0750',
        'Titanium 750 ml Pot',
        44,
        'A 750 ml titanium pot with a lid and folding handles for solo cooking.',
        '105 g, fits a 100 g fuel canister and a small stove inside.',
      ],
      [
        'RL-CK-0300',
        'FireCharge Wood Stove',
        149,
        'The FireCharge is a wood-burning camp stove with a thermoelectric generator that charges your phone.',
        'Burns sticks and pine cones, no fuel to carry, USB output powered by the heat of the fire, 930 g.',
      ],
    ],
  },
  {
    key: 'coolers',
    label: 'Cooler',
    uses: [
      'Pre-chill it with a bag of sacrificial ice the night before a trip for the longest ice retention.',
      'Certified bear-resistant when both latches are secured with padlocks.',
      'Freezer-grade gasket and a thick foam-filled wall keep the heat out on hot days.',
    ],
    extras: ['The rotomolded shell is covered by a lifetime warranty.'],
    items: [
      [
        'RL-CK-0450',
        'Icebox 45 Hard Cooler',
        249,
        'The Icebox 45 is a rotomolded hard cooler that keeps ice for up to five days.',
        '45 quart (42 L) capacity, bear-resistant latches, drain plug, holds about 36 cans with ice.',
      ],
      [
        'RL-CK-0650',
        'Icebox 65 Hard Cooler',
        329,
        'The Icebox 65 is the larger rotomolded cooler for week-long trips and boats.',
        '65 quart (61 L) capacity, keeps ice up to seven days, bear-resistant latches, non-slip feet, 13 kg empty.',
      ],
    ],
  },
  {
    key: 'water',
    label: 'Water treatment',
    uses: [
      'Filters remove bacteria and protozoa; only purifiers also deal with viruses.',
      'Backflush regularly to keep the flow rate high.',
    ],
    extras: [
      'Do not let a used hollow-fiber filter freeze; ice crystals can damage the fibers without any visible sign.',
    ],
    items: [
      [
        'RL-WT-0100',
        'Clearflow Squeeze Water Filter',
        39,
        'The Clearflow Squeeze is a 0.1 micron hollow-fiber filter that screws onto bottles and soft pouches.',
        'Removes 99.9999% of bacteria and 99.9% of protozoa, rated for 400,000 liters, 85 g, includes two 1 L pouches.',
      ],
      [
        'RL-WT-0400',
        'Clearflow Gravity 4L Filter',
        99,
        'The Clearflow Gravity is a 4-liter hang-and-forget gravity filter for groups and base camps.',
        'Same 0.1 micron hollow-fiber element as the Squeeze, filters about 1.7 liters per minute with no pumping.',
      ],
      [
        'RL-WT-0200',
        'PureLight UV Water Purifier',
        89,
        'The PureLight is a UV-C purifier pen that treats clear water in 90 seconds.',
        'Kills viruses, bacteria and protozoa in 1 liter of clear water, USB-C rechargeable, about 50 treatments per charge. Does not remove sediment or chemicals.',
      ],
      [
        'RL-WT-1000',
        'Summit Insulated Water Bottle 1 L',
        35,
        'The Summit is a double-wall vacuum insulated stainless steel bottle.',
        'Keeps drinks cold 24 hours and hot 12 hours, leakproof lid, 1 liter, 430 g.',
      ],
    ],
  },
  {
    key: 'apparel',
    label: 'Clothing',
    uses: ['Cut with room for layering underneath.', 'PFC-free durable water repellent finish.'],
    extras: ['Wash cold, tumble dry low to reactivate the water repellency.'],
    items: [
      [
        'RL-AP-3101',
        "Storm Shell Men's Rain Jacket",
        199,
        "The Storm Shell Men's is a 2.5-layer waterproof breathable rain jacket for hiking and travel.",
        '20,000 mm waterproof rating, pit zips for ventilation, helmet-compatible hood, packs into its own pocket, 320 g.',
      ],
      [
        'RL-AP-3102',
        "Storm Shell Women's Rain Jacket",
        199,
        "The Storm Shell Women's is our 2.5-layer waterproof breathable rain jacket in a women's fit.",
        '20,000 mm waterproof rating, pit zips, adjustable hood, packs into its own pocket, 290 g.',
      ],
      [
        'RL-AP-2200',
        'Ember Down Jacket',
        229,
        'The Ember Down Jacket is a lightweight 800-fill down puffy for cold camp evenings and belays.',
        'Water-resistant down, 10D shell, stuffs into its chest pocket, 340 g.',
      ],
      [
        'RL-AP-1100',
        'Merino 150 Base Layer Crew',
        79,
        'A lightweight merino wool base layer top that resists odor on multi-day trips.',
        '150 g/m² 100% merino, flatlock seams that do not chafe under pack straps.',
      ],
      [
        'RL-AP-4100',
        'Ridgeline Softshell Hiking Pants',
        109,
        'Stretchy softshell hiking pants that shed light rain and block wind.',
        '4-way stretch, articulated knees, zippered thigh pocket, roll-up leg tabs, UPF 50.',
      ],
      [
        'RL-AP-5100',
        'Touchscreen Fleece Gloves',
        29,
        'Lightweight fleece gloves with conductive fingertips for using a phone or GPS outdoors.',
        'Silicone grip palm, works with capacitive touchscreens, machine washable.',
      ],
    ],
  },
  {
    key: 'footwear',
    label: 'Footwear',
    uses: [
      'A waterproof membrane keeps feet dry on wet trails and stream crossings.',
      'We recommend trying boots on in the afternoon, when feet are slightly larger.',
    ],
    extras: ['Half sizes available; wide widths in most sizes.'],
    items: [
      [
        'RL-FW-1001',
        'Granite Mid Waterproof Hiking Boots',
        179,
        'The Granite Mid is a waterproof mid-cut hiking boot for rocky trails and backpacking with a load.',
        'Waterproof breathable membrane, Vibram outsole with 5 mm lugs, nubuck leather upper, 1.1 kg per pair.',
      ],
      [
        'RL-FW-1002',
        'Granite Low Hiking Shoes',
        149,
        'The Granite Low is the low-cut hiking shoe version of the Granite for day hikes and travel.',
        'Same Vibram outsole and waterproof membrane as the Granite Mid, 860 g per pair.',
      ],
      [
        'RL-FW-2001',
        'Swift Trail Running Shoes',
        139,
        'The Swift is a lightweight trail running shoe with a rock plate and aggressive grip.',
        '6 mm drop, 4 mm lugs, quick-dry mesh upper (not waterproof), 580 g per pair.',
      ],
      [
        'RL-FW-3001',
        'Basecamp Recovery Sandals',
        49,
        'Cushioned recovery sandals for camp, the beach and after a long hike.',
        'Adjustable straps, quick-dry footbed, 420 g per pair.',
      ],
    ],
  },
  {
    key: 'trail-gear',
    label: 'Trail gear',
    uses: [
      'Built for hikers, backpackers and thru-hikers.',
      'Check local regulations; some parks require approved food storage.',
    ],
    extras: ['Backed by our lifetime warranty.'],
    items: [
      [
        'RL-TG-0130',
        'Carbon Trekking Poles (Pair)',
        169,
        'Lightweight carbon fiber trekking poles with quick flick-lock length adjustment.',
        '3-section, 100 to 135 cm, 430 g per pair, cork grips, carbide tips and interchangeable baskets.',
      ],
      [
        'RL-TG-0120',
        'Aluminum Trekking Poles (Pair)',
        89,
        'Durable aluminum trekking poles that bend rather than snap under a hard fall.',
        '3-section, 100 to 140 cm, 540 g per pair, foam grips with extended grip below.',
      ],
      [
        'RL-TG-0401',
        'Drift Single Camping Hammock',
        59,
        'The Drift Single is a lightweight nylon camping hammock with tree-friendly straps.',
        'Holds up to 180 kg, 280 × 140 cm, packs into an attached stuff sack.',
      ],
      [
        'RL-TG-0402',
        'Drift Double Camping Hammock',
        79,
        'The Drift Double is a wide two-person nylon hammock for lounging at camp.',
        'Holds up to 230 kg, 300 × 200 cm, includes tree straps.',
      ],
      [
        'RL-TG-0900',
        'Bear-Resistant Food Canister',
        84,
        'A hard-sided bear canister approved for use in parks that require food storage containers.',
        '11.5 liters, holds about 5 days of food for one person, tool-free lid, 1.2 kg.',
      ],
    ],
  },
  {
    key: 'wearables',
    label: 'Wearable',
    uses: [
      'Syncs activities with the Ridgeline Connect app on iOS and Android.',
      'Breadcrumb navigation guides you back along your route.',
    ],
    extras: ['Water rated to 10 ATM for swimming.'],
    items: [
      [
        'RL-WR-0200',
        'Pathline Sport GPS Watch',
        249,
        'The Pathline Sport is a multisport GPS watch for hiking, trail running and cycling.',
        'Wrist heart rate, barometric altimeter, up to 14 days of smartwatch battery or 30 hours in GPS mode, 46 g.',
      ],
      [
        'RL-WR-0300',
        'Pathline Solar GPS Watch',
        399,
        'The Pathline Solar adds a solar charging lens and offline topo maps to the Pathline platform.',
        'Up to 50 hours in GPS mode with sunlight, preloaded topographic maps, pulse oximeter, 61 g.',
      ],
      [
        'RL-WR-0500',
        'Velo 500 Bike Computer',
        199,
        'The Velo 500 is a GPS bike computer with turn-by-turn navigation and climb previews.',
        '2.6-inch color screen, 20-hour battery, connects to power meters and heart rate straps via ANT+ and Bluetooth.',
      ],
      [
        'RL-WR-0800',
        'Beam 800 Bike Light Set',
        69,
        'The Beam 800 is a USB-C rechargeable front and rear bike light set for commuting.',
        '800 lumen front light, 100 lumen rear light with brake detection, IPX6, tool-free mounts.',
      ],
    ],
  },
];

// Category sentences that apply only to some items (SKU pattern), and a few
// item-specific extras, so no description claims what the product does not do.
const ONLY = [
  ['It is a good fit for backpacking', /RL-TN-(2201|2301|1110|1210)/],
  ['The vestibules keep', /RL-TN-(2201|2301|2405|1210|1110)/],
  ['Color-coded clips', /RL-TN-(2201|2301|2405|6600|6400|2050)/],
  ['The pad includes a pump sack', /RL-SP-042/],
  ['A field repair kit', /RL-SP-(042|0300)/],
  ['The adjustable torso length', /RL-BP-(3800|4800|650)/],
  ['Hip belt pockets', /RL-BP-(3800|4800|650)/],
  ['A rain cover stows', /RL-BP-(3800|4800|650|2200)/],
  ['Compatible with hydration reservoirs', /RL-BP-(3800|4800|650|2200)/],
  ['Red light mode', /RL-HL-(0400|0650|0200|0300)/],
  ['A lock mode', /RL-HL-(0400|0650|0300)/],
  ['Hang it from a tent loop', /RL-LT-0(500|100)/],
  ['Download topographic maps', /RL-GP-006/],
  ['Track logs can be exported', /RL-GP-006/],
  ['Multi-band GNSS', /RL-GP-006/],
  ['Firmware updates are installed', /RL-GP-006/],
  ['Pass-through charging', /RL-PW-(1010|2065|0500|1000)/],
  ['Airlines allow power banks', /RL-PW-(1010|2065)/],
  ['Licence rules differ', /RL-RD-0(222|500)/],
  ['Record your rides', /RL-CM-400/],
  ['Footage transfers to your phone', /RL-CM-400/],
  ['Uses standard isobutane-propane', /RL-CK-0(100|050)/],
  ['Always cook outside', /RL-CK-0(100|050|200|300)/],
  ['Fuel is sold separately', /RL-CK-0(100|050|200)/],
  ['Filters remove bacteria', /RL-WT-0[124]00/],
  ['Backflush regularly', /RL-WT-0[14]00/],
  ['Do not let a used hollow-fiber', /RL-WT-0[14]00/],
  ['Cut with room for layering', /RL-AP-(310|2200)/],
  ['PFC-free durable water repellent', /RL-AP-(310|2200|4100)/],
  ['Wash cold, tumble dry low', /RL-AP-(310|2200|4100)/],
  ['A waterproof membrane keeps', /RL-FW-100/],
  ['Check local regulations; some parks', /RL-TG-0900/],
  ['Syncs activities with', /RL-WR-0[235]00/],
  ['Breadcrumb navigation', /RL-WR-0[235]00/],
  ['Water rated to 10 ATM', /RL-WR-0[23]00/],
];
const ITEM_USES = {
  'RL-GP-0501': 'Carry it in an outside pocket or on a shoulder strap so you can reach it if you are injured.',
  'RL-GP-0010': 'Carry a map and compass as a backup to any electronic navigation device.',
  'RL-CM-2400': 'Mounts to a tree with the included strap or a standard tripod thread.',
  'RL-CM-2450':
    'Mounts to a tree with the included strap; pair it with the solar panel for months without a battery change.',
  'RL-CK-0750': 'Titanium is light and strong but spreads heat unevenly, so stir often when simmering.',
  'RL-WT-1000': 'The wide mouth takes ice cubes and fits most water filters, and the bottle fits most car cup holders.',
  'RL-AP-1100': 'Merino regulates temperature and can be worn for several days between washes.',
  'RL-AP-5100': 'Good as liner gloves under insulated mittens on cold days. Available in sizes XS to XL.',
  'RL-CM-0300': 'Works in total darkness as well as at dusk; the illuminator is invisible to most animals.',
  'RL-TG-0401': 'Pair it with a bug net and a tarp for buggy or rainy nights; the 2.5 cm straps protect tree bark.',
  'RL-TG-0402': 'Pair it with a tarp for shade or rain; the 2.5 cm straps protect tree bark and need no knots.',
  'RL-WR-0800': 'A daytime flash mode makes you visible to drivers from far away.',
};
const applies = (sentence, sku) => ONLY.every(([prefix, re]) => !sentence.startsWith(prefix) || re.test(sku));

const PRODUCT_BY_SKU = new Map();
for (const cat of CATEGORIES) {
  for (const [sku, name, price, lead, specs] of cat.items) {
    const pool = cat.uses.filter((u) => applies(u, sku));
    const uses = [...pool].sort(() => rng() - 0.5).slice(0, 2);
    if (ITEM_USES[sku]) uses.push(ITEM_USES[sku]);
    const extras = cat.extras.filter((x) => applies(x, sku));
    const extra = extras.length ? pick(extras) : '';
    const priceLine = pick([
      `Price: $${price}.`,
      `Retail price $${price}.`,
      `Item ${sku}, $${price}.`,
      `List price $${price} USD.`,
    ]);
    const text = [lead, specs, ...uses, extra, priceLine].filter(Boolean).join(' ');
    const id = addDoc('prod', 'products', name, text, { sku, category: cat.key, price_usd: price, brand: 'Ridgeline' });
    PRODUCT_BY_SKU.set(sku, { id, sku, name, price, category: cat.key, label: cat.label });
  }
}

// ------------------------------------------------------------------ support
// Shared boilerplate, repeated verbatim in many articles (embctl must embed
// identical text only once).
const FOOTER_HELP =
  'Still need help? Our Customer Care team is available seven days a week, 8 a.m. to 8 p.m. Mountain Time, by chat or at help@ridgeline.example. Have your order number and the product serial number ready so we can help you faster.';
const FOOTER_BATTERY =
  'Battery safety: never ship a swollen, leaking or damaged lithium-ion battery by regular mail. Stop using the device, store it outdoors away from anything flammable and contact us for a prepaid hazardous-materials return label.';

// [title, topic, body, footers]
const SUPPORT = [
  // returns & exchanges
  [
    'How do I return an item?',
    'returns',
    'You can return most items within 30 days of delivery for a refund to the original payment method. Sign in, open Orders, choose the order and select Start a return. Print the prepaid label, pack the item with all accessories and drop it at any carrier location. Members of Ridgeline Rewards get 60 days. Refunds are issued within 5 business days after the return reaches our warehouse.',
    ['help'],
  ],
  [
    'Returning a damaged or defective item',
    'returns',
    'If something arrived broken, torn or not working, report it within 14 days of delivery. Open the order, choose Report a problem, and attach two or three photos of the damage and the shipping box. We send a replacement at no cost or refund you in full, including original shipping. You do not need to wait for the damaged item to reach us before the replacement ships; for large items like coolers or power stations we may ask you to keep or recycle the product instead.',
    ['help'],
  ],
  [
    'Returning used gear',
    'returns',
    "Gear that has been used outdoors can still be returned within 30 days if it has a defect or did not perform as described. A tent that leaks, a sleeping bag that runs cold or boots that hurt after one hike can come back. Items must be clean and dry. Used items returned simply because you changed your mind are accepted only in store, at the manager's discretion, and may be refunded as store credit.",
    ['help'],
  ],
  [
    'Exchanging for a different size or color',
    'returns',
    'To exchange footwear, clothing or a pack for another size, start a return and choose Exchange instead of Refund. We ship the new size as soon as the carrier scans your return, so you are not without gear for long. Exchanges ship free within the United States. If the new size costs more or less, we charge or refund the difference.',
    [],
  ],
  [
    'Returning opened electronics',
    'returns',
    'Opened electronics such as GPS units, action cameras, power banks and headphones can be returned within 30 days if they are in like-new condition with all cables, manuals and packaging. Remove your accounts and reset the device to factory settings before sending it back. Earbuds and headphones that have been used are accepted only if defective, for hygiene reasons.',
    ['help'],
  ],
  [
    'Where is my refund?',
    'returns',
    'Refunds are issued within 5 business days after your return is received and inspected. Card refunds can take another 3 to 10 business days to appear on your statement, depending on your bank. PayPal refunds usually appear within 24 hours. Store credit and gift card refunds are instant. You will get an email when the refund is issued; the email shows the refund amount and the last four digits of the card.',
    ['help'],
  ],
  [
    'Returning a gift',
    'returns',
    "Gifts can be returned with the gift receipt or the order number for store credit in the recipient's name. The person who bought the gift is not notified. If you do not have the order number, bring the item to any store and we will look it up by the gift message or the giver's email address.",
    [],
  ],
  [
    'Return shipping costs',
    'returns',
    'Return shipping is free for defective, damaged or incorrect items and for Ridgeline Rewards members. For other returns we deduct a flat $7.95 label fee from your refund. Oversized items such as kayaks, power stations over 10 kg and coolers have a $29 return freight fee unless they are defective. Returns dropped at any of our stores are always free.',
    [],
  ],
  // warranty
  [
    'How to make a warranty claim',
    'warranty',
    'Ridgeline-brand packs, tents, trekking poles and clothing carry a lifetime warranty against defects in materials and workmanship. Electronics carry a two-year limited warranty. To file a claim, go to Support, select Warranty claim, enter the product SKU, the order number if you have it and describe the problem with photos. Proof of purchase is not required for lifetime-warranty items. Normal wear and tear, accidents and damage from misuse are not covered, but our repair shop can often fix them for a fee.',
    ['help'],
  ],
  [
    'What the warranty covers on electronics',
    'warranty',
    'Electronics sold under the Ridgeline brand, including headlamps, GPS units, cameras, radios and power stations, are covered for two years from delivery against manufacturing defects. Batteries are covered for one year or until capacity drops below 70 percent. Water damage is covered only if the device was used within its stated IP rating. Cracked screens, lost parts and damage from unofficial chargers are not covered.',
    ['help', 'battery'],
  ],
  [
    'Tent and pack repair service',
    'warranty',
    'Broken tent poles, torn mesh, failed zippers and damaged buckles can often be repaired rather than replaced. Our repair shop fixes Ridgeline and other brands. Out-of-warranty repairs are quoted before work starts; a replacement tent pole section costs $12 and a zipper slider $15. Typical turnaround is two to three weeks plus shipping. Clean and dry the item before you send it.',
    ['help'],
  ],
  [
    'Third-party brand warranties',
    'warranty',
    "Products from other brands we carry are covered by their manufacturer's warranty. We handle the claim for you during the first 30 days; after that, contact the manufacturer directly with your order confirmation as proof of purchase. Your invoice lists the brand and model of every item.",
    [],
  ],
  // shipping
  [
    'Shipping options and delivery times',
    'shipping',
    'Standard shipping takes 3 to 7 business days within the contiguous United States and is free on orders over $50. Expedited shipping arrives in 2 business days for $14.95 and overnight shipping costs $29.95 when you order before 1 p.m. Mountain Time. Shipments to Alaska, Hawaii and US territories take 7 to 12 business days. Large items such as coolers and power stations always ship ground.',
    [],
  ],
  [
    'Tracking your order',
    'shipping',
    'As soon as your order ships you get an email with a tracking number. You can also see tracking on the Orders page of your account. Tracking may take up to 24 hours to update after the label is created. Orders with items from several warehouses arrive in separate packages, each with its own tracking number.',
    ['help'],
  ],
  [
    'My package is late or lost',
    'shipping',
    'If tracking has not updated for 5 business days, or your package shows as delivered but you cannot find it, first check with neighbors and around the delivery location. Then contact us: we open an investigation with the carrier and, for lost packages, ship a replacement or issue a refund without waiting for the investigation to end.',
    ['help'],
  ],
  [
    'International shipping',
    'shipping',
    "We ship to Canada, the United Kingdom, the European Union, Australia and New Zealand. Duties and taxes are calculated at checkout and collected up front, so there are no surprise fees on delivery. Some items cannot be shipped internationally: fuel canisters, bear spray, large lithium batteries and power stations. International returns are accepted within 30 days but return shipping is at the customer's expense.",
    [],
  ],
  [
    'Shipping restrictions for fuel and batteries',
    'shipping',
    'Stove fuel canisters, bear spray and propane are hazardous materials and ship only by ground within the contiguous United States. Lithium batteries installed in devices ship normally; spare lithium batteries and power stations over 100 Wh ship ground only. If your order includes a restricted item, expedited shipping is not offered for that item.',
    ['battery'],
  ],
  [
    'Changing the shipping address on an order',
    'shipping',
    'You can change the shipping address within one hour of placing the order from the Orders page. After that, the order is already in our warehouse system; contact us and we will try to redirect the package with the carrier, which may add a fee. We cannot ship to a different address than the one verified by your payment method on some high-value orders.',
    ['help'],
  ],
  [
    'Buy online, pick up in store',
    'shipping',
    'Choose store pickup at checkout to collect your order at any Ridgeline Outfitters store, usually within 2 hours when the item is in stock at that store. Bring your order confirmation email and a photo ID. Orders not picked up within 7 days are cancelled and refunded.',
    [],
  ],
  // orders & payment
  [
    'Cancelling an order',
    'orders',
    'Orders can be cancelled within one hour of being placed from the Orders page, as long as they have not entered fulfillment. After that, cancellation is not guaranteed: if the order has shipped, refuse the delivery or return it for a refund. Cancelled orders are refunded to the original payment method; the pending authorization on your card drops off within a few days.',
    ['help'],
  ],
  [
    'I was charged twice',
    'orders',
    'A duplicate charge is usually a pending authorization plus the final charge, and the authorization disappears within 3 to 5 business days. If two completed charges appear for the same order, contact us with the order number and the last four digits of the card: we confirm the duplicate and reverse it, and the reversal is shown as a credit on your invoice.',
    ['help'],
  ],
  [
    'Accepted payment methods',
    'orders',
    'We accept Visa, Mastercard, American Express, Discover, PayPal, Apple Pay, Google Pay and Ridgeline gift cards. Business customers with an approved account can pay by invoice with net 30 terms. We do not accept cash on delivery or cryptocurrency. Pay in four installments is available at checkout for orders between $50 and $1,500.',
    [],
  ],
  [
    'Price adjustments and price matching',
    'orders',
    'If an item you bought goes on sale at Ridgeline within 14 days of purchase, we refund the difference once per item. We also match the price of identical items sold and shipped by major authorized retailers at the time of purchase. Price matching does not apply to clearance, marketplace sellers, bundles or coupon prices.',
    [],
  ],
  [
    'Business and group orders',
    'orders',
    'Schools, scout troops, guide services and companies can open a business account for volume pricing, tax-exempt purchasing and payment by invoice on net 30 terms. Apply from the Business page with your tax ID. Invoices are emailed as PDF; overdue invoices pause new orders on the account until they are settled.',
    [],
  ],
  [
    'Using a promo code or gift card',
    'orders',
    'Enter promo codes and gift card numbers in the Payment step of checkout. Only one promo code can be used per order, but you can combine it with gift cards and Rewards dollars. Promo codes cannot be applied after an order is placed. Gift cards never expire and can be checked for balance on the Gift Cards page.',
    [],
  ],
  [
    'Sales tax on my order',
    'orders',
    'Sales tax is calculated from the shipping address and the tax rules of that state, county and city. Some states exempt clothing or footwear below a price threshold. Tax-exempt organizations can upload an exemption certificate to their business account; tax already charged on past orders can be refunded once the certificate is approved.',
    [],
  ],
  // accounts
  [
    'Resetting your password',
    'accounts',
    'Select Sign in, then Forgot password, and enter the email address on your account. We send a reset link that is valid for 30 minutes. If the email does not arrive, check your spam folder and make sure you used the same address you registered with. For your security, our staff can never see or set your password.',
    ['help'],
  ],
  [
    'Turning on two-step verification',
    'accounts',
    'Two-step verification protects your account with a one-time code in addition to your password. Go to Account, Security, and choose Set up two-step verification. You can use an authenticator app or receive codes by text message. Save the backup codes in a safe place; you need them if you lose your phone.',
    [],
  ],
  [
    'My account is locked',
    'accounts',
    'After five failed sign-in attempts your account is locked for 30 minutes to protect it. Wait and try again, or reset your password to unlock it immediately. If you did not try to sign in, reset your password, review recent orders and contact us: someone may be trying to use your email address.',
    ['help'],
  ],
  [
    'Deleting your account and data',
    'accounts',
    'You can close your account and ask us to delete your personal data from Account, Privacy, Delete my account. We confirm the request by email. Order records that the law requires us to keep, such as invoices for tax purposes, are retained but no longer linked to a usable profile. Rewards points are forfeited when the account is deleted.',
    ['help'],
  ],
  [
    'Updating your email address or name',
    'accounts',
    'Change the email address, name or phone number on your account from Account, Profile. A confirmation link is sent to the new email address and the change takes effect once you click it. Orders already placed keep the contact details they were placed with.',
    [],
  ],
  [
    'Ridgeline Rewards membership',
    'accounts',
    'Ridgeline Rewards is free to join. Members earn 5 percent back in Rewards dollars on full-price purchases, get free return shipping, a 60-day return window and early access to sales. Rewards dollars are issued each quarter and expire 12 months after issue.',
    [],
  ],
  [
    'Unsubscribing from marketing emails',
    'accounts',
    'Use the unsubscribe link at the bottom of any marketing email, or turn off email and text preferences in Account, Communication. Changes take effect within 48 hours. You will still receive transactional emails about your orders, returns and account security.',
    [],
  ],
  // product troubleshooting (hand-written)
  [
    'Tent is leaking: what to check',
    'troubleshooting',
    'Most tent leaks come from condensation, not rain. Water on the inside of the fly on a cool, still night is normal; open the vents and vestibule doors to reduce it. If water drips through the seams, re-seal them with a silicone seam sealer. Make sure the fly is taut and not touching the inner tent, and that the footprint does not stick out past the floor, where it collects rain and channels it underneath you.',
    ['help'],
  ],
  [
    'Replacing a broken tent pole',
    'troubleshooting',
    'A cracked or snapped pole section can be splinted in the field with the repair sleeve included with your tent: slide it over the break and tape both ends. At home, order a replacement section from Support with your tent model and the pole color code, or send the whole pole set to our repair shop. Shock cord that has lost its stretch can be replaced too.',
    [],
  ],
  [
    'Sleeping bag feels cold',
    'troubleshooting',
    'If you sleep cold, check the pad first: most heat is lost to the ground, and a pad with an R-value under 3 is too little for nights below freezing. Wear a dry base layer and a hat, eat before bed and use the hood drawcord. Down loses loft when it is dirty or compressed; wash it with a down-specific cleaner and dry it with tennis balls to restore loft. Comfort ratings assume an average sleeper wearing a base layer.',
    [],
  ],
  [
    'Air sleeping pad keeps deflating',
    'troubleshooting',
    'Some pressure loss overnight is normal when the air inside cools. To find a slow leak, inflate the pad fully, submerge it section by section in a bathtub and look for a stream of bubbles, or spray soapy water on it. Mark the hole, let the pad dry, and apply a patch from the repair kit. A leaking valve can be replaced; contact us with the pad model.',
    [],
  ],
  [
    'Stove will not light or burns weakly',
    'troubleshooting',
    'If your canister stove will not light, check that the canister is screwed on firmly and not empty; weigh it to know how much fuel is left. In cold weather, keep the canister warm in your jacket, because isobutane blends lose pressure below freezing. A weak yellow flame usually means a blocked jet; clean it with the needle from the maintenance kit. Never use a stove inside a closed tent.',
    [],
  ],
  [
    'Water filter flow is slow',
    'troubleshooting',
    'A hollow-fiber filter slows down as sediment collects in the fibers. Backflush it with clean water using the included syringe until the flow comes back. Pre-filter silty water through a bandana. If the flow does not return after backflushing, or if the filter has frozen, replace the filter cartridge, because frozen fibers can crack and let bacteria through.',
    [],
  ],
  [
    'Zipper is stuck or splitting',
    'troubleshooting',
    'A zipper that separates behind the slider usually has a worn slider, not a broken zipper tape. Gently squeeze the slider with pliers to tighten it, or replace the slider. A stuck zipper often frees up with a little zipper lubricant or candle wax. Never force it: fabric caught in the teeth can tear. Our repair shop replaces sliders and zippers on tents, packs and jackets.',
    ['help'],
  ],
  [
    'Rain jacket is wetting out',
    'troubleshooting',
    'When a rain jacket feels damp inside, the face fabric has usually lost its water repellency and is soaked, which stops it from breathing. Wash the jacket with a technical cleaner, then tumble dry on low heat for 20 minutes to reactivate the DWR finish. If water still soaks in, apply a spray-on DWR treatment. Sweat under a waterproof layer can feel like a leak too; open the pit zips.',
    [],
  ],
  [
    'Hiking boots are giving me blisters',
    'troubleshooting',
    "Blisters come from friction, so check the fit first: your heel should not lift more than a few millimeters when you walk uphill. Try a different lacing pattern, such as a surgeon's knot at the ankle, and wear synthetic or wool socks, never cotton. New leather boots need a few short walks to break in. If the boots still rub after a week of wear, exchange them for another size or model within 30 days.",
    [],
  ],
  [
    'Headlamp flickers or turns off by itself',
    'troubleshooting',
    'Flickering on a battery-powered headlamp usually means weak batteries or dirty contacts; clean the contacts with a pencil eraser. Rechargeable headlamps step down brightness automatically to protect the battery when it gets hot or low, which is normal. If the lamp turns off on its own, check that the lock mode is off and update to the latest firmware if your model supports it.',
    ['help'],
  ],
  [
    'GPS is not acquiring satellites',
    'troubleshooting',
    'After a long time off or a big move, your handheld GPS may need several minutes in the open with a clear view of the sky to find its position. Turn on multi-band GNSS and update the satellite ephemeris data through Ridgeline Connect to shorten the first fix. Deep canyons, dense forest and car windshields with metal coating block signals.',
    ['help'],
  ],
  [
    'Pairing Bluetooth speakers and headphones',
    'troubleshooting',
    "To pair, hold the Bluetooth button until the light flashes blue, then choose the device in your phone's Bluetooth settings. If it does not appear, forget the device on your phone, turn Bluetooth off and on, and keep the two within one meter. To reset to factory settings, hold the power and volume-down buttons for 10 seconds.",
    ['help'],
  ],
  [
    'Trail camera is not taking pictures',
    'troubleshooting',
    'Check that the switch is set to On, not Setup, and that the batteries are fresh alkaline or lithium AA cells; rechargeable NiMH cells often lack the voltage. Format the microSD card in the camera. Point the camera across a trail rather than straight down it, at about knee height, and clear branches that move in the wind and cause empty triggers.',
    [],
  ],
  [
    'Portable power station shuts off under load',
    'troubleshooting',
    'A power station turns off its AC output when a device draws more than the rated output or a short surge above the surge rating. Devices with motors or compressors, such as fridges and pumps, may need a large start-up surge. Check the watts shown on the display, unplug other loads and try again. If the AC output does not turn back on, restart the unit.',
    ['help', 'battery'],
  ],
  // care & use
  [
    'Washing a down sleeping bag or jacket',
    'care',
    'Wash down products in a front-loading machine without an agitator, on a gentle cycle with cold or warm water and a down-specific cleaner. Rinse twice. Tumble dry on low heat with two or three clean tennis balls for several hours until no clumps remain. Store loose, never compressed.',
    [],
  ],
  [
    'Storing gear between seasons',
    'care',
    'Clean and fully dry tents, sleeping bags and packs before storing them. Store tents loosely in a breathable bag in a cool, dry place; mildew and hydrolysis of the coating are caused by storing them damp. Remove batteries from headlamps and GPS units, and store lithium-ion devices at about 50 percent charge.',
    [],
  ],
  [
    'Caring for lithium-ion batteries',
    'care',
    'Lithium-ion batteries last longest between 20 and 80 percent charge. Avoid leaving devices in a hot car or charging them below freezing. Use the supplied cable or a good-quality USB-C charger. A battery that swells, gets very hot or smells unusual must not be charged again.',
    ['battery'],
  ],
];

const FOOTERS = { help: FOOTER_HELP, battery: FOOTER_BATTERY };
for (const [title, topic, body, footers] of SUPPORT) {
  const text = [body, ...footers.map((f) => FOOTERS[f])].join('\n\n');
  addDoc('sup', 'support', title, text, {
    topic,
    audience: 'customers',
    updated: `2024-${pad(int(1, 9), 2)}-${pad(int(1, 28), 2)}`,
  });
}

// The help center files a few articles under two sections; the copies are
// word-for-word identical under another title and id.
for (const [title, copyTitle, topic] of [
  ['Caring for lithium-ion batteries', 'Battery care tips for headlamps, GPS units and power banks', 'care'],
  ['Shipping restrictions for fuel and batteries', 'Can I order stove fuel or spare batteries online?', 'orders'],
]) {
  const orig = docs.find((x) => x.title === title);
  addDoc('sup', 'support', copyTitle, orig.text, { ...orig.metadata, topic, duplicate_of: orig.id });
}

// Templated device articles: near-duplicates across similar models.
const FIRMWARE_DEVICES = [
  'RL-GP-0066',
  'RL-GP-0067',
  'RL-CM-4000',
  'RL-CM-4001',
  'RL-WR-0200',
  'RL-WR-0300',
  'RL-WR-0500',
  'RL-CM-2450',
];
for (const sku of FIRMWARE_DEVICES) {
  const p = PRODUCT_BY_SKU.get(sku);
  const how = sku.startsWith('RL-CM')
    ? 'Open the Ridgeline Capture app, connect to the camera over Wi-Fi and tap Camera settings, Firmware. The app downloads the update and copies it to the camera.'
    : 'Connect the device to a computer with the USB cable, open Ridgeline Connect and select Check for updates, or update over Wi-Fi from the device Settings menu, System, Software update.';
  const text = `How to update the firmware on the ${p.name} (${sku}). Charge the battery above 50 percent first. ${how} Do not turn the device off or disconnect it while the update installs; it restarts by itself when finished, which can take up to 15 minutes. If an update fails, hold the power button for 15 seconds to force a restart and try again. Your saved ${sku.startsWith('RL-CM') ? 'videos and settings' : 'tracks, waypoints and settings'} are kept.`;
  addDoc('sup', 'support', `Updating firmware on the ${p.name}`, text + '\n\n' + FOOTER_HELP, {
    topic: 'troubleshooting',
    audience: 'customers',
    sku,
  });
}
const CHARGE_DEVICES = [
  'RL-HL-0400',
  'RL-HL-0650',
  'RL-HL-0300',
  'RL-PW-1010',
  'RL-PW-2065',
  'RL-PW-0500',
  'RL-AU-0067',
  'RL-AU-0220',
];
for (const sku of CHARGE_DEVICES) {
  const p = PRODUCT_BY_SKU.get(sku);
  const led = pick(['the indicator light', 'the status LED', 'the charging light']);
  const text = `If your ${p.name} (${sku}) will not charge, or ${led} does not come on when plugged in, try a different USB-C cable and a wall charger of at least 10 W; some laptop ports and car sockets do not supply enough current. Make sure the port is dry and free of sand or lint. A fully depleted battery can take a few minutes before ${led} responds. Charging pauses when the device is below 0 °C or above 45 °C. If it still does not charge after these steps, the battery may need service under warranty.`;
  addDoc('sup', 'support', `${p.name} won't charge`, text + '\n\n' + FOOTER_BATTERY, {
    topic: 'troubleshooting',
    audience: 'customers',
    sku,
  });
}

// ----------------------------------------------------------------- policies
// [title, policy area, owner, effective date, body]
const POLICIES = [
  // customer-facing legal
  [
    'Privacy Notice: information we collect',
    'privacy',
    'Legal',
    '2024-01-15',
    'Ridgeline Outfitters collects the personal information you give us when you create an account, place an order, join Ridgeline Rewards or contact Customer Care: name, postal and email address, phone number, payment details and order history. We also collect device and usage information automatically when you use our website and apps, including IP address, browser type, pages viewed and approximate location derived from the IP address. Precise location is collected only if you allow it in the app, for example to find the nearest store.',
  ],
  [
    'Privacy Notice: how we use personal information',
    'privacy',
    'Legal',
    '2024-01-15',
    'We use personal information to process and deliver orders, handle returns and warranty claims, run Ridgeline Rewards, prevent fraud, provide customer support, improve our products and, with your consent where the law requires it, send marketing. We do not sell personal information for money. We share it with service providers who process it on our behalf under contract, such as payment processors, carriers and cloud hosting providers.',
  ],
  [
    'Privacy Notice: cookies and tracking technologies',
    'privacy',
    'Legal',
    '2024-01-15',
    'Our websites use strictly necessary cookies to keep you signed in and remember your cart, and, with your consent, analytics and advertising cookies. You can change your cookie choices at any time from the Cookie settings link in the page footer. We honor the Global Privacy Control browser signal as an opt-out of targeted advertising. Blocking necessary cookies may stop checkout from working.',
  ],
  [
    'Privacy Notice: data retention',
    'privacy',
    'Legal',
    '2024-01-15',
    'We keep personal information only as long as needed for the purposes described in this notice. Account data is kept while the account is active and deleted 24 months after the last sign-in or purchase. Order and invoice records are kept for seven years to meet tax and accounting obligations. Customer Care chat transcripts are deleted after 18 months. Backups are overwritten on a 35-day cycle.',
  ],
  [
    'Privacy Notice: your rights and choices',
    'privacy',
    'Legal',
    '2024-01-15',
    'Depending on where you live, you may have the right to access, correct, delete or receive a portable copy of your personal information, and to object to or restrict some processing. Submit a request from Account, Privacy, or email privacy@ridgeline.example. We verify your identity before acting on a request and respond within 30 days. You will not be treated differently for exercising these rights.',
  ],
  [
    'Privacy Notice: children',
    'privacy',
    'Legal',
    '2024-01-15',
    'Our websites and apps are not directed to children under 13, and we do not knowingly collect personal information from them. Ridgeline Rewards accounts are limited to adults 18 and over. If you believe a child has given us personal information, contact privacy@ridgeline.example and we will delete it.',
  ],
  [
    'Privacy Notice: international data transfers',
    'privacy',
    'Legal',
    '2024-01-15',
    "Ridgeline Outfitters is based in the United States and processes data there and in other countries where our service providers operate. When we transfer personal data from the European Economic Area, the United Kingdom or Switzerland, we rely on the European Commission's Standard Contractual Clauses and the UK International Data Transfer Addendum, together with additional safeguards such as encryption in transit and at rest.",
  ],
  [
    'Terms of Sale: pricing errors and order acceptance',
    'terms',
    'Legal',
    '2023-09-01',
    'Your order is an offer to buy; a contract is formed only when we ship the goods and send a shipping confirmation. If a product is listed at an incorrect price because of a typographical or system error, we may cancel orders placed at the wrong price, even after an order confirmation is sent, and refund any payment in full. We may limit quantities per customer and refuse orders that appear to be placed by resellers.',
  ],
  [
    'Terms of Sale: limitation of liability',
    'terms',
    'Legal',
    '2023-09-01',
    'Outdoor activities carry inherent risks. To the fullest extent allowed by law, Ridgeline Outfitters is not liable for indirect, incidental or consequential damages arising from the use of products bought from us, and our total liability for any claim is limited to the price paid for the product. Nothing in these terms limits liability for death or personal injury caused by negligence or any rights you have under consumer protection law.',
  ],
  [
    'Returns Policy (effective March 1, 2023)',
    'returns',
    'Customer Operations',
    '2023-03-01',
    'Customers may return new, unused merchandise within 45 days of delivery with proof of purchase for a full refund to the original form of payment. Used merchandise is accepted within 45 days only if defective. Opened electronics are subject to a 15 percent restocking fee unless defective. Final-sale and clearance items cannot be returned. Refunds are processed within 10 business days of receipt. This policy is superseded by the version effective February 1, 2024.',
  ],
  [
    'Returns Policy (effective February 1, 2024)',
    'returns',
    'Customer Operations',
    '2024-02-01',
    'Customers may return new, unused merchandise within 30 days of delivery, or 60 days for Ridgeline Rewards members, for a full refund to the original form of payment. Used merchandise is accepted within 30 days if defective or not as described. The restocking fee on opened electronics is removed; electronics must be returned complete and reset to factory settings. Final-sale and clearance items cannot be returned. Refunds are issued within 5 business days of receipt at the returns center.',
  ],
  [
    'Returns Policy: damaged in transit',
    'returns',
    'Customer Operations',
    '2024-02-01',
    'Goods damaged in transit must be reported within 14 days of delivery with photographs of the item and the packaging. The company bears all costs of replacing or refunding goods damaged in transit, including original and return shipping, and files the claim with the carrier. Staff may authorize a replacement before the damaged goods are returned. For hazardous or bulky goods, such as lithium batteries over 100 Wh, staff may instruct the customer to dispose of the item locally.',
  ],
  [
    'Warranty Policy: Ridgeline-brand products',
    'warranty',
    'Product Quality',
    '2023-06-01',
    "Ridgeline-brand backpacks, tents, sleeping bags, trekking poles, apparel and footwear are warranted against defects in materials and workmanship for the life of the product. Electronics are warranted for two years from the date of delivery, batteries for one year. The warranty does not cover normal wear and tear, damage caused by accidents, improper care, alteration, or use outside published limits. Remedies are repair, replacement or, where neither is practical, a refund or store credit at the company's option.",
  ],
  [
    'Price Match Policy',
    'pricing',
    'Merchandising',
    '2024-02-01',
    'Stores and the online channel match the current advertised price of an identical item, same brand, model, size and color, sold and shipped by an authorized US retailer. Store associates verify the competitor price online before adjusting. Price matching excludes marketplace third-party sellers, bundles, clearance, membership-only prices, coupons and pricing errors. Post-purchase price adjustments for our own markdowns are allowed once per item within 14 days.',
  ],
  [
    'Shipping Policy',
    'shipping',
    'Customer Operations',
    '2024-02-01',
    'Standard ground shipping is free on orders over $50 in the contiguous United States. Hazardous materials, including fuel canisters, propane, bear spray and lithium batteries over 100 Wh, ship by ground only and may not be shipped to P.O. boxes or outside the contiguous United States. Orders placed before 1 p.m. Mountain Time on business days ship the same day when all items are in stock.',
  ],
  [
    'Accessibility Statement',
    'accessibility',
    'Digital',
    '2024-04-10',
    'Ridgeline Outfitters is committed to making its websites and mobile apps accessible to people with disabilities. We aim to conform to the Web Content Accessibility Guidelines (WCAG) 2.2 level AA and test new features with screen readers and keyboard-only navigation. If you have trouble using any part of our site, email accessibility@ridgeline.example and we will provide the information or complete the order with you.',
  ],
  [
    'Product Safety and Recall Policy',
    'safety',
    'Product Quality',
    '2023-11-20',
    'When a product safety issue is identified, the Product Quality team assesses the risk within 24 hours and, with Legal, decides on a stop-sale, a customer notice or a voluntary recall in cooperation with the Consumer Product Safety Commission. Affected customers are contacted by email using order records, recall notices are posted on the website and in stores, and refunds or replacements are offered regardless of proof of purchase or return window.',
  ],
  // information security
  [
    'Information Security Policy: overview',
    'security',
    'Security',
    '2024-03-01',
    'This policy sets the minimum security requirements for all employees, contractors and systems that store or process company or customer data. Information is classified as Public, Internal, Confidential or Restricted; customer personal data and payment data are Restricted. The Chief Information Security Officer owns this policy, reviews it annually and approves exceptions, which must be documented with an expiry date and compensating controls.',
  ],
  [
    'Password and Authentication Standard',
    'security',
    'Security',
    '2024-03-01',
    'Passwords for company accounts must be at least 14 characters long, unique to the account and stored in the company password manager. Do not reuse passwords between work and personal accounts. Multi-factor authentication is mandatory for email, single sign-on, VPN, cloud consoles and any system holding Restricted data; phishing-resistant security keys are required for administrators. Passwords are changed only when compromise is suspected, not on a fixed schedule.',
  ],
  [
    'Access Control Standard',
    'security',
    'Security',
    '2024-03-01',
    "Access to systems is granted on the principle of least privilege and requested through the IT service portal with manager approval. Privileged access to production databases requires a second approver and is time-limited to 8 hours. Managers review their team's access every quarter. Accounts of departing employees are disabled on the last working day, and shared accounts are prohibited except for documented break-glass accounts.",
  ],
  [
    'Encryption Standard',
    'security',
    'Security',
    '2024-03-01',
    'Restricted and Confidential data must be encrypted in transit with TLS 1.2 or later and at rest with AES-256 or an equivalent provided by the cloud platform. Encryption keys are managed in the central key management service and rotated annually. Company laptops use full-disk encryption. Sending Restricted data by unencrypted email or storing it on removable media is prohibited.',
  ],
  [
    'Security Incident Response Procedure',
    'security',
    'Security',
    '2024-03-01',
    'Anyone who suspects a security incident, such as a lost laptop, a phishing email that was clicked, malware or unexpected access to customer data, must report it immediately to security@ridgeline.example or the on-call security phone line. Do not try to investigate on your own or delete evidence. The incident response team triages within one hour, contains the incident, and Legal decides on notification of customers and regulators within the time limits set by law, for example 72 hours under the GDPR.',
  ],
  [
    'Reporting Phishing Emails',
    'security',
    'Security',
    '2024-03-01',
    'If you receive a suspicious email asking you to sign in, pay an invoice, change bank details or open an attachment, do not click links or reply. Use the Report Phishing button in the mail client, which sends the message to the security team and removes it from your inbox. If you already clicked a link or entered your password, report it right away and change your password; you will not be blamed for reporting quickly.',
  ],
  [
    'Acceptable Use of Company Devices',
    'security',
    'IT',
    '2024-03-01',
    'Company laptops and phones are provided for business use; limited personal use is allowed if it does not interfere with work or violate policy. Do not install unapproved software, disable endpoint protection or share devices with family members. Lock your screen when you step away. Lost or stolen devices must be reported to the IT service desk within 24 hours so the device can be remotely wiped.',
  ],
  [
    'Payment Card Data Handling (PCI DSS)',
    'security',
    'Security',
    '2024-03-01',
    'Full card numbers, security codes and magnetic stripe data must never be written down, emailed, typed into chat or stored in any company system. Card payments are taken only through the point-of-sale terminals and the hosted payment page, which tokenize the card so our systems never see the full number. Store associates inspect payment terminals for tampering at the start of each shift. The company validates PCI DSS compliance every year.',
  ],
  [
    'Vendor Security Review',
    'security',
    'Security',
    '2024-03-01',
    "Before a new vendor, SaaS tool or contractor can access Confidential or Restricted data, the requesting team submits a vendor security questionnaire through procurement. Security reviews the vendor's SOC 2 report or equivalent, data flows and contract terms, including a data processing agreement and breach notification duty. High-risk vendors are re-reviewed annually. Free tools that process customer data without a contract are not allowed.",
  ],
  [
    'Data Retention and Deletion Schedule',
    'data-governance',
    'Legal',
    '2024-01-15',
    'Records are kept for the periods in this schedule and then securely deleted. Financial records, invoices and tax documents: seven years. Employee personnel files: seven years after employment ends. Customer account data: 24 months after the last activity. Support chat transcripts and call recordings: 18 months. Security logs: one year. Legal holds override this schedule and are issued only by the General Counsel.',
  ],
  [
    'Artificial Intelligence Use Policy',
    'data-governance',
    'Legal',
    '2024-05-20',
    'Employees may use approved generative AI tools for drafting, coding and research. Customer personal data, payment data and Confidential information must not be entered into AI tools unless the tool is approved for that data class by Security and Legal. Output must be reviewed by a person before it is published, sent to customers or used in product descriptions. Search and recommendation models that use customer data need a privacy impact assessment before launch.',
  ],
  // HR
  [
    'Code of Conduct',
    'hr',
    'People',
    '2023-08-01',
    'All employees are expected to act honestly, treat customers and colleagues with respect, and follow the law and company policies. Conflicts of interest, such as a financial interest in a supplier, must be disclosed to your manager and People team. Gifts from vendors worth more than $75 must be declined or reported. Report concerns to your manager, the People team or the anonymous ethics hotline; retaliation against anyone who reports in good faith is prohibited.',
  ],
  [
    'Anti-Harassment and Non-Discrimination Policy',
    'hr',
    'People',
    '2023-08-01',
    'Ridgeline Outfitters prohibits harassment and discrimination based on race, color, religion, sex, sexual orientation, gender identity, national origin, age, disability, veteran status or any other protected characteristic. This applies at work, at company events, on trips and online. Employees who experience or witness harassment should report it to a manager, the People team or the ethics hotline. Every report is investigated promptly and confidentially.',
  ],
  [
    'Paid Time Off Policy',
    'hr',
    'People',
    '2024-01-01',
    'Full-time employees accrue paid time off at 1.54 hours per 40 hours worked during the first two years (80 hours a year), increasing to 120 hours a year after two years and 160 hours after five years. Up to 40 hours of unused PTO carry over to the next year. Request time off in the HR system at least two weeks ahead when possible. Retail staff should avoid requests during the November and December peak season.',
  ],
  [
    'Sick Leave Policy',
    'hr',
    'People',
    '2024-01-01',
    "All employees, including part-time and seasonal staff, accrue one hour of paid sick leave for every 30 hours worked, up to 56 hours a year, or more where local law requires. Sick leave can be used for your own illness, medical appointments, or caring for a family member. A doctor's note is not required for absences of three days or less.",
  ],
  [
    'Parental Leave Policy',
    'hr',
    'People',
    '2024-01-01',
    'Employees with at least six months of service are eligible for 12 weeks of fully paid parental leave after the birth, adoption or foster placement of a child, to be taken within the first year. Leave can be taken in up to two blocks. Parental leave runs concurrently with leave under the Family and Medical Leave Act where that law applies.',
  ],
  [
    'Remote and Hybrid Work Policy',
    'hr',
    'People',
    '2024-04-01',
    'Corporate employees in eligible roles may work remotely up to three days a week, with Tuesday and Wednesday as shared in-office days at headquarters in Boulder. Fully remote arrangements need approval from a vice president and the People team. Remote workers must use a secure home network, keep company devices locked when unattended and never work with Restricted data in public places. Store and warehouse roles are on site.',
  ],
  [
    'Travel and Expense Reimbursement Policy',
    'hr',
    'Finance',
    '2024-02-15',
    'Business travel must be booked through the corporate travel tool. Economy class is required for flights under six hours. Submit expenses with itemized receipts in the expense system within 30 days; receipts are required for anything over $25. Meals are reimbursed up to $75 per day while traveling. Alcohol, personal entertainment and traffic fines are not reimbursed. Managers approve expenses within five business days.',
  ],
  [
    'Employee Discount Policy',
    'hr',
    'People',
    '2024-01-01',
    'Employees receive 40 percent off full-price Ridgeline-brand merchandise and 25 percent off other brands, and immediate family members in the same household receive 20 percent. The discount is for personal use only: buying for resale or for friends is misuse and can lead to termination. Discounts cannot be combined with promotions. Seasonal employees are eligible after 30 days.',
  ],
  [
    'Workplace Safety in Stores and Warehouses',
    'safety',
    'Operations',
    '2023-10-01',
    'Employees in stores and distribution centers must complete safety training before their first shift. Use a step ladder, never shelving, to reach high displays. Team lifts are required for items over 23 kg, such as coolers and power stations. Forklifts may be operated only by certified staff. Report every injury, near miss or unsafe condition to a manager on the same day.',
  ],
  [
    'Handling Lithium Batteries in Returns',
    'safety',
    'Operations',
    '2024-02-01',
    'Returned devices with lithium-ion batteries are inspected at the returns center before restocking. Swollen, punctured, leaking or overheated batteries are isolated immediately in the fire-safe battery bin, never placed in general returns. Damaged batteries are shipped to the certified recycler as hazardous waste; they may not be sent as regular parcels. Staff must wear gloves and eye protection when handling damaged batteries.',
  ],
  [
    'Customer Data Access by Store Staff',
    'privacy',
    'Security',
    '2024-03-01',
    "Store associates may look up a customer's account only to serve that customer at their request, for example to find an order for a return. Browsing accounts of friends, celebrities or colleagues out of curiosity is a serious privacy violation and leads to disciplinary action. Every lookup is logged and audited monthly. Never read out or write down payment details, and never change an account email address over the phone without identity verification.",
  ],
  [
    'Social Media Policy',
    'hr',
    'Marketing',
    '2023-08-01',
    'Only the Marketing team may post on behalf of Ridgeline Outfitters. Employees who mention their work on personal social media should make clear that their views are their own, must not share confidential information, customer details or unreleased products, and should refer customer complaints to Customer Care. Employees who take part in sponsored outdoor content must disclose the relationship.',
  ],
  [
    'Business Continuity and Backup Policy',
    'security',
    'IT',
    '2024-03-01',
    'Critical systems, including the e-commerce platform, order management and point of sale, must have documented recovery plans. Production databases are backed up continuously with point-in-time recovery and daily snapshots kept for 35 days in a separate region. The recovery time objective for checkout is 4 hours and the recovery point objective is 15 minutes. Recovery plans are tested twice a year.',
  ],
];

for (const [title, area, owner, effective, body] of POLICIES) {
  addDoc('pol', 'policies', title, body, {
    area,
    owner,
    effective,
    audience: ['privacy', 'terms', 'returns', 'pricing', 'shipping', 'accessibility', 'warranty'].includes(area)
      ? 'public'
      : 'internal',
  });
}

// Regional privacy supplements share one boilerplate paragraph and differ in
// the rights and authorities they name.
const PRIVACY_BOILER =
  'This supplement adds to the Ridgeline Outfitters Privacy Notice and applies only to residents of the region named. Where this supplement and the Privacy Notice conflict, this supplement controls for those residents.';
const REGIONAL = [
  [
    'California',
    '2024-01-15',
    'Under the California Consumer Privacy Act as amended by the CPRA, California residents may request to know, delete and correct personal information, and opt out of the sale or sharing of personal information for cross-context behavioral advertising using the Do Not Sell or Share My Personal Information link. We do not use or disclose sensitive personal information beyond permitted purposes. An authorized agent may submit requests on your behalf with written permission.',
  ],
  [
    'European Economic Area and United Kingdom',
    '2024-01-15',
    "Under the GDPR and UK GDPR, Ridgeline Outfitters is the controller of your personal data. Our legal bases are contract performance for orders, legitimate interests for fraud prevention and product improvement, consent for marketing and non-essential cookies, and legal obligation for tax records. You may lodge a complaint with your local supervisory authority or, in the UK, the Information Commissioner's Office. Our EU representative can be reached at eu-rep@ridgeline.example.",
  ],
  [
    'Canada',
    '2024-01-15',
    "Under PIPEDA and applicable provincial laws, including Quebec's Law 25, Canadian residents may access and correct their personal information and withdraw consent, subject to legal and contractual limits. Our privacy officer is responsible for compliance and can be contacted at privacy@ridgeline.example. You may complain to the Office of the Privacy Commissioner of Canada.",
  ],
  [
    'Colorado, Virginia and Connecticut',
    '2024-01-15',
    'Residents of Colorado, Virginia and Connecticut may confirm whether we process their personal data, access, correct and delete it, obtain a portable copy, and opt out of targeted advertising, sale and profiling with legal effects. If we deny your request, you may appeal by replying to our decision email within 45 days; if the appeal is denied you may contact your state Attorney General.',
  ],
];
for (const [region, effective, body] of REGIONAL) {
  addDoc('pol', 'policies', `Privacy Supplement for ${region} Residents`, `${body}\n\n${PRIVACY_BOILER}`, {
    area: 'privacy',
    owner: 'Legal',
    effective,
    audience: 'public',
    region,
  });
}

// ----------------------------------------------------------------- invoices
const CUSTOMERS = [
  ['CUST-10231', 'Maya Patel', 'Denver', 'CO'],
  ['CUST-10482', 'Dana Whitfield', 'Portland', 'OR'],
  ['CUST-10517', 'Luis Ortega', 'Albuquerque', 'NM'],
  ['CUST-10608', 'Hannah Kim', 'Seattle', 'WA'],
  ['CUST-10644', 'Tom Becker', 'Missoula', 'MT'],
  ['CUST-10702', 'Priya Raman', 'Austin', 'TX'],
  ['CUST-10755', 'Grace Liu', 'San Jose', 'CA'],
  ['CUST-10789', 'Owen Fitzgerald', 'Burlington', 'VT'],
  ['CUST-10813', 'Aisha Mohammed', 'Minneapolis', 'MN'],
  ['CUST-10856', 'Ben Carter', 'Salt Lake City', 'UT'],
  ['CUST-10902', 'Sofia Rossi', 'Boise', 'ID'],
  ['CUST-10937', 'Jamal Washington', 'Atlanta', 'GA'],
  ['CUST-10981', 'Emily Novak', 'Madison', 'WI'],
  ['CUST-11024', 'Kenji Watanabe', 'Sacramento', 'CA'],
  ['CUST-11058', 'Rachel Green', 'Asheville', 'NC'],
  ['CUST-11093', 'Marco Silva', 'Flagstaff', 'AZ'],
  ['CUST-11127', 'Olivia Brooks', 'Bend', 'OR'],
  ['CUST-11160', 'Noah Schmidt', 'Anchorage', 'AK'],
  ['CUST-11204', 'Chloe Martin', 'Bozeman', 'MT'],
  ['CUST-11239', 'Daniel Cohen', 'Boston', 'MA'],
  ['CUST-11271', 'Fatima Haddad', 'Chicago', 'IL'],
  ['CUST-11305', 'Ethan Walker', 'Reno', 'NV'],
  ['CUST-11342', 'Isabel Moreno', 'Tucson', 'AZ'],
  ['CUST-11378', 'Lucas Andersen', 'Duluth', 'MN'],
  ['CUST-11415', 'Zoe Thompson', 'Colorado Springs', 'CO'],
  ['CUST-11449', 'Samuel Okafor', 'Richmond', 'VA'],
  ['CUST-11486', 'Mia Jensen', 'Spokane', 'WA'],
  ['CUST-11520', 'Arjun Mehta', 'Raleigh', 'NC'],
  ['CUST-11557', 'Leah Goldberg', 'Portland', 'ME'],
  ['CUST-11593', 'Caleb Young', 'Jackson', 'WY'],
  ['CUST-11630', 'Nora Lindqvist', 'Vancouver', 'BC'],
];
const BUSINESS = [
  ['CUST-30114', 'Cedar Hollow Scout Troop 114', 'Lakewood', 'CO'],
  ['CUST-30207', 'High Desert Guides LLC', 'Moab', 'UT'],
  ['CUST-30311', 'Pine Ridge Middle School Outdoor Club', 'Eugene', 'OR'],
  ['CUST-30420', 'Blue Mesa Search and Rescue', 'Gunnison', 'CO'],
];
const TAX = {
  CO: 0.029,
  OR: 0,
  NM: 0.05125,
  WA: 0.065,
  MT: 0,
  TX: 0.0625,
  CA: 0.0725,
  VT: 0.06,
  MN: 0.06875,
  UT: 0.061,
  ID: 0.06,
  GA: 0.04,
  WI: 0.05,
  NC: 0.0475,
  AZ: 0.056,
  AK: 0,
  MA: 0.0625,
  IL: 0.0625,
  NV: 0.0685,
  VA: 0.053,
  ME: 0.055,
  WY: 0.04,
  BC: 0.12,
};
const CARDS = [
  'Visa ending 4417',
  'Mastercard ending 0392',
  'Visa ending 8820',
  'American Express ending 1006',
  'Discover ending 5531',
  'PayPal',
  'Apple Pay (Visa ending 7764)',
  'Mastercard ending 2219',
  'Google Pay (Mastercard ending 6098)',
  'Visa ending 3140',
];
const CARRIERS = ['UPS Ground', 'FedEx Home Delivery', 'USPS Priority Mail', 'UPS 2nd Day Air'];
const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
const fmtDate = (d) =>
  pick([0, 1]) ? d.toISOString().slice(0, 10) : `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}, ${d.getUTCFullYear()}`;
const addDays = (d, n) => new Date(d.getTime() + n * 86400000);

const INVOICE_FACTS = []; // structured copy used for judging invoice queries
let invSeq = 10388;
let ordSeq = 582904;

function makeInvoice(o) {
  invSeq += int(3, 17);
  ordSeq += int(20, 400);
  const invoiceNo = o.invoiceNo ?? `INV-2024-${invSeq}`;
  const orderNo = o.orderNo ?? `RO-${ordSeq}`;
  const [custId, custName, city, state] = o.customer;
  const business = custId.startsWith('CUST-3');
  const date = o.date;
  const lines = o.items.map(([sku, qty]) => {
    const p = PRODUCT_BY_SKU.get(sku);
    if (!p) throw new Error('unknown sku ' + sku);
    const unit = business ? Math.round(p.price * 100 * 0.85) : p.price * 100;
    return { sku, qty, name: p.name, unit, amount: unit * qty, category: p.category };
  });
  const subtotal = lines.reduce((s, l) => s + l.amount, 0);
  const expedited = o.expedited ?? (!business && rng() < 0.15);
  const shipping = expedited ? 1495 : subtotal >= 5000 ? 0 : 695;
  const taxRate = o.taxExempt ? 0 : (TAX[state] ?? 0.05);
  const tax = Math.round(subtotal * taxRate);
  const duties = state === 'BC' ? Math.round(subtotal * 0.06) : 0;
  const total = subtotal + shipping + tax + duties;
  const status = o.status;
  const payment = business ? 'Invoice, net 30 terms' : (o.card ?? pick(CARDS));

  const head = pick([
    `Invoice ${invoiceNo} for order ${orderNo}, issued ${fmtDate(date)}.`,
    `${invoiceNo} (order ${orderNo}) dated ${fmtDate(date)}.`,
    `Tax invoice ${invoiceNo}, order ${orderNo}, invoice date ${fmtDate(date)}.`,
  ]);
  const bill = `Bill to ${custName}, customer ${custId}, ${city}, ${state}${business ? ' (business account)' : ''}.`;
  const items =
    'Line items: ' +
    lines
      .map((l) => `${l.qty} × ${l.name} (${l.sku}) at ${money(l.unit)}${l.qty > 1 ? ` = ${money(l.amount)}` : ''}`)
      .join('; ') +
    '.';
  const sums = `Subtotal ${money(subtotal)}, shipping ${shipping === 0 ? 'free (standard ground)' : money(shipping) + (expedited ? ' (expedited)' : ' (standard)')}, ${o.taxExempt ? 'tax exempt (certificate on file)' : `sales tax ${money(tax)}`}${duties ? `, duties and import taxes ${money(duties)}` : ''}, total ${money(total)}.`;
  let tail;
  const shipDate = addDays(date, int(0, 2));
  switch (status) {
    case 'paid':
      tail = `Paid by ${payment}. Status: paid. Shipped ${fmtDate(shipDate)} via ${expedited ? 'UPS 2nd Day Air' : pick(CARRIERS.slice(0, 3))}.`;
      break;
    case 'refunded':
      tail = `Paid by ${payment}. Status: refunded. Full refund of ${money(total)} issued ${fmtDate(addDays(date, int(12, 30)))}; return reason: ${o.reason}.`;
      break;
    case 'partially_refunded': {
      const r = o.refund;
      tail = `Paid by ${payment}. Status: partially refunded. Refund of ${money(r.amount)} issued ${fmtDate(addDays(date, int(8, 25)))} for ${r.what}; reason: ${o.reason}.`;
      break;
    }
    case 'cancelled':
      tail = `Status: cancelled. ${o.reason ?? 'Order cancelled by the customer before shipment'}; the card authorization on ${payment} was released and nothing was charged.`;
      break;
    case 'open':
      tail = `Payment terms: net 30, due ${fmtDate(addDays(date, 30))}. Status: open, balance due ${money(total)}.`;
      break;
    case 'overdue':
      tail = `Payment terms: net 30, due ${fmtDate(addDays(date, 30))}. Status: overdue, balance due ${money(total)}; payment reminder sent ${fmtDate(addDays(date, 37))}. New orders on the account are on hold until settled.`;
      break;
    case 'disputed':
      tail = `Paid by ${payment}. Status: disputed. The card issuer opened a chargeback on ${fmtDate(addDays(date, int(20, 40)))} with reason "${o.reason}"; carrier delivery confirmation was submitted as evidence.`;
      break;
    default:
      throw new Error(status);
  }
  const note = o.note ? ' ' + o.note : '';
  const text = [head, bill, items, sums, tail].join(' ') + note;
  const iso = date.toISOString().slice(0, 10);
  const id = addDoc('inv', 'invoices', `Invoice ${invoiceNo} (${custName})`, text, {
    invoice_no: invoiceNo,
    order_no: orderNo,
    customer_id: custId,
    date: iso,
    status,
    total_usd: total / 100,
    skus: lines.map((l) => l.sku),
  });
  INVOICE_FACTS.push({
    id,
    invoiceNo,
    orderNo,
    custId,
    custName,
    state,
    date: iso,
    status,
    total,
    lines,
    business,
    payment,
    reason: o.reason ?? '',
    note: o.note ?? '',
    refund: o.refund,
    expedited,
    key: o.key,
  });
  return INVOICE_FACTS.at(-1);
}

const C = Object.fromEntries([...CUSTOMERS, ...BUSINESS].map((c) => [c[0], c]));
const d = (s) => new Date(s + 'T00:00:00Z');

// Hand-written scenarios (several are near-duplicates of each other on purpose).
const SCENARIOS = [
  {
    customer: C['CUST-10482'],
    date: d('2024-03-14'),
    items: [
      ['RL-TN-2201', 1],
      ['RL-PW-1010', 2],
    ],
    status: 'paid',
    note: 'Note: one tent pole section arrived cracked; a replacement pole section was shipped free of charge on a separate order.',
  },
  {
    key: 'dana-duplicate',
    customer: C['CUST-10482'],
    date: d('2024-03-19'),
    items: [['RL-TN-2201', 1]],
    status: 'refunded',
    reason: 'duplicate order placed by mistake',
  },
  {
    customer: C['CUST-10231'],
    date: d('2024-02-03'),
    items: [
      ['RL-HL-0400', 2],
      ['RL-PW-1010', 1],
    ],
    status: 'paid',
  },
  {
    key: 'maya-partial',
    customer: C['CUST-10231'],
    date: d('2024-04-22'),
    items: [
      ['RL-HL-0400', 2],
      ['RL-PW-1010', 1],
    ],
    status: 'partially_refunded',
    reason: 'defective, headlamp would not charge',
    refund: { amount: 4900, what: 'one Beacon 400 Headlamp' },
  },
  {
    customer: C['CUST-10231'],
    date: d('2024-07-09'),
    items: [
      ['RL-SB-0820', 1],
      ['RL-SP-0420', 1],
    ],
    status: 'paid',
  },
  {
    key: 'troop-overdue',
    customer: C['CUST-30114'],
    date: d('2024-05-02'),
    items: [
      ['RL-SB-3030', 12],
      ['RL-TN-2050', 6],
      ['RL-HL-0200', 12],
    ],
    status: 'overdue',
    taxExempt: true,
  },
  {
    customer: C['CUST-30114'],
    date: d('2024-08-12'),
    items: [
      ['RL-CK-0200', 2],
      ['RL-WT-0400', 2],
    ],
    status: 'open',
    taxExempt: true,
  },
  {
    customer: C['CUST-30207'],
    date: d('2024-01-29'),
    items: [
      ['RL-GP-0067', 4],
      ['RL-GP-0501', 4],
    ],
    status: 'paid',
    note: 'Paid by ACH transfer on day 26 of terms.',
  },
  {
    customer: C['CUST-30207'],
    date: d('2024-06-17'),
    items: [
      ['RL-PW-5028', 3],
      ['RL-PW-2065', 6],
      ['RL-RD-0500', 4],
    ],
    status: 'overdue',
  },
  {
    customer: C['CUST-30311'],
    date: d('2024-04-08'),
    items: [
      ['RL-OP-0825', 15],
      ['RL-GP-0010', 15],
    ],
    status: 'paid',
    taxExempt: true,
    note: 'Paid by school district check.',
  },
  {
    customer: C['CUST-30420'],
    date: d('2024-02-26'),
    items: [
      ['RL-RD-0500', 8],
      ['RL-HL-0650', 8],
      ['RL-PW-0500', 1],
    ],
    status: 'paid',
    taxExempt: true,
  },
  { customer: C['CUST-10608'], date: d('2024-05-20'), items: [['RL-OP-1042', 1]], status: 'paid' },
  { customer: C['CUST-10937'], date: d('2024-05-21'), items: [['RL-OP-0842', 1]], status: 'paid' },
  {
    customer: C['CUST-10856'],
    date: d('2024-06-03'),
    items: [
      ['RL-PW-1000', 1],
      ['RL-PW-5028', 2],
    ],
    status: 'partially_refunded',
    reason: 'changed mind, unopened',
    refund: { amount: 11900, what: 'one SunCatcher 28W Solar Panel returned unopened' },
  },
  {
    customer: C['CUST-11093'],
    date: d('2024-06-05'),
    items: [
      ['RL-PW-1000', 1],
      ['RL-PW-5028', 2],
    ],
    status: 'paid',
  },
  {
    key: 'camera-refund',
    customer: C['CUST-10755'],
    date: d('2024-03-02'),
    items: [['RL-CM-4000', 1]],
    status: 'refunded',
    reason: 'opened, not as expected, returned in like-new condition',
  },
  { customer: C['CUST-11024'], date: d('2024-03-05'), items: [['RL-CM-4001', 1]], status: 'paid' },
  {
    customer: C['CUST-11160'],
    date: d('2024-01-11'),
    items: [
      ['RL-SB-0800', 1],
      ['RL-AP-2200', 1],
    ],
    status: 'paid',
    expedited: true,
  },
  {
    customer: C['CUST-11630'],
    date: d('2024-07-15'),
    items: [
      ['RL-TN-1110', 1],
      ['RL-TG-0130', 1],
    ],
    status: 'paid',
    note: 'International shipment to Canada; duties and taxes were collected at checkout.',
  },
  {
    customer: C['CUST-11239'],
    date: d('2024-08-01'),
    items: [['RL-CK-0650', 1]],
    status: 'cancelled',
    reason: 'Order cancelled by the customer within one hour of purchase',
  },
  {
    customer: C['CUST-11305'],
    date: d('2024-04-14'),
    items: [
      ['RL-AU-0067', 1],
      ['RL-AU-0220', 1],
    ],
    status: 'disputed',
    reason: 'merchandise not received',
  },
  {
    customer: C['CUST-11449'],
    date: d('2024-02-10'),
    items: [['RL-FW-1001', 1]],
    status: 'paid',
    note: 'Exchange: the boots were returned for being too small and a pair half a size larger was shipped at no charge; no price difference.',
  },
  {
    customer: C['CUST-10702'],
    date: d('2024-07-28'),
    items: [
      ['RL-CK-0450', 1],
      ['RL-CK-0200', 1],
    ],
    status: 'paid',
    card: 'Visa ending 4417',
    note: 'Customer reported a duplicate charge of the same amount; the duplicate was confirmed and reversed on the card, shown here as a credit of the full total.',
  },
  {
    customer: C['CUST-11415'],
    date: d('2024-08-30'),
    items: [
      ['RL-TN-2405', 1],
      ['RL-SB-0800', 1],
      ['RL-SP-0425', 1],
    ],
    status: 'paid',
    expedited: true,
  },
  {
    customer: C['CUST-11593'],
    date: d('2024-09-04'),
    items: [
      ['RL-CM-2450', 2],
      ['RL-CM-0300', 1],
    ],
    status: 'refunded',
    reason: 'defective, trail cameras would not connect to the LTE network',
  },
];
const INVOICE_SPECS = [...SCENARIOS];

// Background invoices: ordinary orders, seeded.
const STATUS_WEIGHTS = [
  ['paid', 70],
  ['refunded', 8],
  ['partially_refunded', 8],
  ['cancelled', 5],
  ['disputed', 2],
];
const REASONS = [
  'wrong size',
  'changed mind',
  'arrived damaged',
  'defective',
  'not as described',
  'too heavy for intended use',
  'ordered the wrong model',
];
const ALL_SKUS = [...PRODUCT_BY_SKU.keys()];
function weighted(pairs) {
  const total = pairs.reduce((s, [, w]) => s + w, 0);
  let r = rng() * total;
  for (const [v, w] of pairs) {
    if ((r -= w) < 0) return v;
  }
  return pairs[0][0];
}
for (let i = 0; i < 82; i++) {
  const customer = pick(CUSTOMERS);
  const n = weighted([
    [1, 45],
    [2, 35],
    [3, 15],
    [4, 5],
  ]);
  const skus = new Set();
  while (skus.size < n) skus.add(pick(ALL_SKUS));
  const items = [...skus].map((s) => [
    s,
    weighted([
      [1, 85],
      [2, 12],
      [3, 3],
    ]),
  ]);
  const date = addDays(d('2024-01-02'), int(0, 250));
  const status = weighted(STATUS_WEIGHTS);
  const o = { customer, date, items, status };
  if (status === 'refunded' || status === 'partially_refunded') o.reason = pick(REASONS);
  if (status === 'disputed') o.reason = pick(['merchandise not received', 'unrecognized transaction']);
  if (status === 'partially_refunded') {
    const [sku] = items[Math.floor(rng() * items.length)];
    const p = PRODUCT_BY_SKU.get(sku);
    o.refund = { amount: p.price * 100, what: `one ${p.name}` };
    if (items.length === 1 && items[0][1] === 1) {
      o.status = 'refunded';
    }
  }
  INVOICE_SPECS.push(o);
}
INVOICE_SPECS.sort((a, b) => a.date - b.date);
for (const o of INVOICE_SPECS) makeInvoice(o);

// ------------------------------------------------------------------- output
const QUERIES = []; // filled below
// ------------------------------------------------------------ judged queries
// Written by hand. Grades: 2 = answers the query, 1 = partially relevant.
// Documents from another segment are judged too when they really answer.
const P = (sku) => {
  const p = PRODUCT_BY_SKU.get(sku);
  if (!p) throw new Error('no product ' + sku);
  return p.id;
};
const T = (title) => {
  const x = docs.find((y) => y.title === title);
  if (!x) throw new Error('no document titled ' + title);
  return x.id;
};
const rel = (...pairs) => Object.fromEntries(pairs);
// every document whose text contains `needle` (and passes `also`), at `grade`
const containing = (needle, grade, also = () => true) =>
  docs.filter((x) => x.text.includes(needle) && also(x)).map((x) => [x.id, grade]);
function q(segment, query, relevant) {
  QUERIES.push({ id: `q${pad(QUERIES.length + 1)}`, query, segment, relevant });
}

// products
q(
  'products',
  'lightweight 2 person backpacking tent',
  rel([P('RL-TN-2201'), 2], [P('RL-TN-1210'), 2], [P('RL-TN-2301'), 1], [P('RL-TN-2050'), 1]),
);
q('products', '4-season tent for snow and high winds', rel([P('RL-TN-2405'), 2]));
q('products', 'ultralight solo shelter pitched with trekking poles', rel([P('RL-TN-1110'), 2], [P('RL-TN-1210'), 1]));
q('products', 'family tents with a room divider', rel([P('RL-TN-6600'), 2], [P('RL-TN-6400'), 1]));
q('products', '20 degree down bag for a tall person', rel([P('RL-SB-0821'), 2], [P('RL-SB-0820'), 1]));
q('products', 'winter sleeping bag rated to 0F', rel([P('RL-SB-0800'), 2]));
q('products', 'wide sleeping pads for side sleepers', rel([P('RL-SP-0425'), 2], [P('RL-SP-0420'), 1]));
q('products', 'rechargable waterproof headlamp', rel([P('RL-HL-0650'), 2], [P('RL-HL-0400'), 1], [P('RL-HL-0300'), 1]));
q('products', 'headlamps that use AAA batteries', rel([P('RL-HL-0200'), 2], [P('RL-HL-0050'), 2]));
q('products', 'RL-PW-2065', rel([P('RL-PW-2065'), 2]));
q(
  'products',
  'battery pack to charge my laptop',
  rel([P('RL-PW-2065'), 2], [P('RL-PW-0500'), 1], [P('RL-PW-1000'), 1]),
);
q('products', 'foldable solar charger that attaches to a backpack', rel([P('RL-PW-5021'), 2], [P('RL-PW-5028'), 1]));
q('products', 'power station to run a CPAP during a power outage', rel([P('RL-PW-1000'), 2], [P('RL-PW-0500'), 1]));
q('products', 'two way satellite texting with SOS', rel([P('RL-GP-0067'), 2], [P('RL-GP-0501'), 1]));
q('products', '8x binoculars for bird watching', rel([P('RL-OP-0842'), 2], [P('RL-OP-0825'), 1], [P('RL-OP-1042'), 1]));
q('products', 'trail cam that sends pictures to my phone', rel([P('RL-CM-2450'), 2], [P('RL-CM-2400'), 1]));
q('products', 'waterproof bluetooth speakers', rel([P('RL-AU-0067'), 2], [P('RL-AU-0068'), 2]));
q('products', 'stove that boils water fastest', rel([P('RL-CK-0100'), 2], [P('RL-CK-0050'), 1]));
q('products', 'water purifier that kills viruses', rel([P('RL-WT-0200'), 2]));
q('products', "women's rain shell", rel([P('RL-AP-3102'), 2]));
q('products', 'mens 65L trekking backpack', rel([P('RL-BP-6501'), 2], [P('RL-BP-6502'), 1]));
q('products', 'cooler that holds ice for a week', rel([P('RL-CK-0650'), 2], [P('RL-CK-0450'), 1]));
q('products', 'carbon fibre trekking poles with cork grips', rel([P('RL-TG-0130'), 2], [P('RL-TG-0120'), 1]));
q('products', 'GPS watch with solar charging and topo maps', rel([P('RL-WR-0300'), 2], [P('RL-WR-0200'), 1]));
q('products', 'Apex 4K Mini', rel([P('RL-CM-4001'), 2], [P('RL-CM-4000'), 1]));

// support
q(
  'support',
  'returning a damaged tent',
  rel(
    [T('Returning a damaged or defective item'), 2],
    [T('Returning used gear'), 1],
    [T('How do I return an item?'), 1],
    [T('Returns Policy: damaged in transit'), 1],
  ),
);
q(
  'support',
  'how long until my refund shows on my credit card',
  rel([T('Where is my refund?'), 2], [T('How do I return an item?'), 1]),
);
q(
  'support',
  'exchange hiking boots for a bigger size',
  rel([T('Exchanging for a different size or color'), 2], [T('Hiking boots are giving me blisters'), 1]),
);
q(
  'support',
  'who pays for return shipping',
  rel(
    [T('Return shipping costs'), 2],
    [T('International shipping'), 1],
    [T('Ridgeline Rewards membership'), 1],
    [T('Returns Policy: damaged in transit'), 1],
  ),
);
q(
  'support',
  'warrenty claim for a broken buckle on my pack',
  rel(
    [T('How to make a warranty claim'), 2],
    [T('Tent and pack repair service'), 1],
    [T('Warranty Policy: Ridgeline-brand products'), 1],
  ),
);
q(
  'support',
  'how many years are electronics covered',
  rel(
    [T('What the warranty covers on electronics'), 2],
    [T('How to make a warranty claim'), 1],
    [T('Warranty Policy: Ridgeline-brand products'), 1],
  ),
);
q(
  'support',
  'tracking says delivered but no package',
  rel([T('My package is late or lost'), 2], [T('Tracking your order'), 1]),
);
q('support', 'do you ship to Canada, are duties included', rel([T('International shipping'), 2]));
q(
  'support',
  'can fuel canisters ship overnight',
  rel(
    ...containing('cannot be shipped by air', 1),
    [T('Shipping restrictions for fuel and batteries'), 2],
    [T('Shipping Policy'), 1],
  ),
);
q('support', 'how to cancel an order I just placed', rel([T('Cancelling an order'), 2]));
q('support', 'double charged on my card', rel([T('I was charged twice'), 2]));
q(
  'support',
  'password reset email never arrived',
  rel([T('Resetting your password'), 2], [T('My account is locked'), 1]),
);
q('support', 'set up 2 step verification with an authenticator app', rel([T('Turning on two-step verification'), 2]));
q(
  'support',
  'close my account and erase my data',
  rel([T('Deleting your account and data'), 2], [T('Privacy Notice: your rights and choices'), 1]),
);
q('support', 'condensation inside tent or is it leaking', rel([T('Tent is leaking: what to check'), 2]));
q('support', 'air mattress loses air overnight', rel([T('Air sleeping pad keeps deflating'), 2]));
q('support', "canister stove won't light when it's cold", rel([T('Stove will not light or burns weakly'), 2]));
q('support', 'water filter clogged, flow rate slowed down', rel([T('Water filter flow is slow'), 2]));
q(
  'support',
  'Beacon 650 not charging',
  rel(
    [T("Beacon 650 Headlamp won't charge"), 2],
    [T("Beacon 400 Headlamp won't charge"), 1],
    [T("Nightjar Run 300 Headlamp won't charge"), 1],
  ),
);
q(
  'support',
  'firmware update for apex 4k mini',
  rel(
    [T('Updating firmware on the Apex 4K Mini Action Camera'), 2],
    [T('Updating firmware on the Apex 4K Action Camera'), 1],
  ),
);
q('support', "handheld GPS can't get a satellite fix", rel([T('GPS is not acquiring satellites'), 2]));
q('support', 'rain jacket soaking through in heavy rain', rel([T('Rain jacket is wetting out'), 2]));
q(
  'support',
  'washing down sleeping bags',
  rel(
    ...containing('Machine wash on a gentle cycle', 1, (x) => /\bdown\b/i.test(x.title)),
    [T('Washing a down sleeping bag or jacket'), 2],
    [T('Sleeping bag feels cold'), 1],
  ),
);
q('support', 'order online and collect at the store', rel([T('Buy online, pick up in store'), 2]));
q('support', 'trailcam not triggering', rel([T('Trail camera is not taking pictures'), 2]));

// policies
q(
  'policies',
  'how long do we keep invoices and tax records',
  rel(
    [T('Data Retention and Deletion Schedule'), 2],
    [T('Privacy Notice: data retention'), 2],
    [T('Deleting your account and data'), 1],
  ),
);
q('policies', 'minimum password length for work accounts', rel([T('Password and Authentication Standard'), 2]));
q('policies', 'approval needed for production database access', rel([T('Access Control Standard'), 2]));
q(
  'policies',
  'what to do with a suspicious email',
  rel([T('Reporting Phishing Emails'), 2], [T('Security Incident Response Procedure'), 1]),
);
q(
  'policies',
  'my work laptop was stolen',
  rel([T('Acceptable Use of Company Devices'), 2], [T('Security Incident Response Procedure'), 2]),
);
q(
  'policies',
  'restocking fee on opened electronics',
  rel(
    [T('Returns Policy (effective February 1, 2024)'), 2],
    [T('Returns Policy (effective March 1, 2023)'), 2],
    [T('Returning opened electronics'), 1],
  ),
);
q(
  'policies',
  'return window for rewards members',
  rel(
    [T('Returns Policy (effective February 1, 2024)'), 2],
    [T('How do I return an item?'), 1],
    [T('Ridgeline Rewards membership'), 1],
  ),
);
q('policies', 'PTO accrual after five years', rel([T('Paid Time Off Policy'), 2]));
q('policies', 'do I need a doctors note for a sick day', rel([T('Sick Leave Policy'), 2]));
q('policies', 'maternity and paternity leave', rel([T('Parental Leave Policy'), 2]));
q('policies', 'how many days can I work from home', rel([T('Remote and Hybrid Work Policy'), 2]));
q('policies', 'daily meal allowance on business trips', rel([T('Travel and Expense Reimbursement Policy'), 2]));
q('policies', 'staff discount for family', rel([T('Employee Discount Policy'), 2]));
q(
  'policies',
  'can we store customer card numbers in a spreadsheet',
  rel([T('Payment Card Data Handling (PCI DSS)'), 2], [T('Encryption Standard'), 1]),
);
q(
  'policies',
  'breach notification deadline',
  rel([T('Security Incident Response Procedure'), 2], [T('Vendor Security Review'), 1]),
);
q(
  'policies',
  'CCPA do not sell or share',
  rel([T('Privacy Supplement for California Residents'), 2], [T('Privacy Notice: how we use personal information'), 1]),
);
q(
  'policies',
  'using generative AI tools with customer data',
  rel([T('Artificial Intelligence Use Policy'), 2], [T('Vendor Security Review'), 1]),
);
q('policies', 'lifting heavy items in the warehouse', rel([T('Workplace Safety in Stores and Warehouses'), 2]));
q(
  'policies',
  'swollen lithium batteries at the returns center',
  rel([T('Handling Lithium Batteries in Returns'), 2], [T('Returns Policy: damaged in transit'), 1]),
);
q('policies', 'accepting gifts from vendors', rel([T('Code of Conduct'), 2]));
q('policies', 'product recall procedure', rel([T('Product Safety and Recall Policy'), 2]));
q(
  'policies',
  'transferring personal data out of the EU',
  rel(
    [T('Privacy Notice: international data transfers'), 2],
    [T('Privacy Supplement for European Economic Area and United Kingdom Residents'), 1],
  ),
);
q(
  'policies',
  'cookie consent and global privacy control',
  rel(
    [T('Privacy Notice: cookies and tracking technologies'), 2],
    [T('Privacy Supplement for European Economic Area and United Kingdom Residents'), 1],
  ),
);
q(
  'policies',
  'item listed at the wrong price',
  rel([T('Terms of Sale: pricing errors and order acceptance'), 2], [T('Price Match Policy'), 1]),
);

// invoices: judgments are derived from the invoices' structured facts, so
// every invoice that answers is judged, not only the one the query was
// written from.
const F = INVOICE_FACTS;
const one = (pred, what) => {
  const r = F.filter(pred);
  if (r.length !== 1) throw new Error(`expected one invoice for ${what}, got ${r.length}`);
  return r[0];
};
const has = (f, sku) => f.lines.some((l) => l.sku === sku);
const hasCat = (f, cat) => f.lines.some((l) => l.category === cat);
const judge = (fn) => {
  const out = {};
  for (const f of F) {
    const g = fn(f);
    if (g) out[f.id] = g;
  }
  return out;
};
const shortInv = (f) => f.invoiceNo.replace('INV-2024-', '');

const mayaPartial = one((f) => f.key === 'maya-partial', 'maya partial');
q('invoices', mayaPartial.invoiceNo, rel([mayaPartial.id, 2]));
const danaDup = one((f) => f.key === 'dana-duplicate', 'dana duplicate');
q('invoices', `inv ${shortInv(danaDup)}`, rel([danaDup.id, 2]));
const troopOverdue = one((f) => f.key === 'troop-overdue', 'troop overdue');
q('invoices', `status of order ${troopOverdue.orderNo}`, rel([troopOverdue.id, 2]));
const camRefund = one((f) => f.key === 'camera-refund', 'camera refund');
q('invoices', `${camRefund.orderNo.toLowerCase()} refund`, rel([camRefund.id, 2]));
q(
  'invoices',
  'invoices for customer CUST-10231',
  judge((f) => (f.custId === 'CUST-10231' ? 2 : 0)),
);
q(
  'invoices',
  'Dana Whitfield orders',
  judge((f) => (f.custId === 'CUST-10482' ? 2 : 0)),
);
q(
  'invoices',
  'refunded duplicate tent order',
  judge((f) =>
    f === danaDup ? 2 : f.custId === 'CUST-10482' && has(f, 'RL-TN-2201') && f.date.startsWith('2024-03') ? 1 : 0,
  ),
);
q(
  'invoices',
  'scout troop invoice overdue',
  judge((f) => (f === troopOverdue ? 2 : f.custId === 'CUST-30114' ? 1 : 0)),
);
q(
  'invoices',
  'unpaid net 30 invoices past due',
  judge((f) => (f.status === 'overdue' ? 2 : f.status === 'open' ? 1 : 0)),
);
q(
  'invoices',
  'High Desert Guides satellite messengers order',
  judge((f) => (f.custId === 'CUST-30207' && has(f, 'RL-GP-0067') ? 2 : f.custId === 'CUST-30207' ? 1 : 0)),
);
q(
  'invoices',
  'partial refund headlamp not charging',
  judge((f) =>
    f === mayaPartial
      ? 2
      : ['refunded', 'partially_refunded'].includes(f.status) && hasCat(f, 'headlamps') && /defective/.test(f.reason)
        ? 1
        : 0,
  ),
);
q(
  'invoices',
  'chargeback merchandise not received',
  judge((f) => (f.status === 'disputed' && /not received/.test(f.reason) ? 2 : f.status === 'disputed' ? 1 : 0)),
);
q(
  'invoices',
  'cancelled order for a cooler',
  judge((f) => (f.status === 'cancelled' && hasCat(f, 'coolers') ? 2 : 0)),
);
q(
  'invoices',
  'Vista 10x42 binoculars invoices May 2024',
  judge((f) => (has(f, 'RL-OP-1042') && f.date.startsWith('2024-05') ? 2 : has(f, 'RL-OP-1042') ? 1 : 0)),
);
q(
  'invoices',
  'action camera returned for a refund',
  judge((f) => {
    const cam = has(f, 'RL-CM-4000') || has(f, 'RL-CM-4001');
    if (!cam) return 0;
    if (f.status === 'refunded') return 2;
    if (f.status === 'partially_refunded') return /Apex/.test(f.refund?.what ?? '') ? 2 : 1;
    return 0;
  }),
);
q(
  'invoices',
  'Homestead 1000 with two solar panels, one panel returned',
  judge((f) => (has(f, 'RL-PW-1000') && has(f, 'RL-PW-5028') ? (f.status === 'partially_refunded' ? 2 : 1) : 0)),
);
q(
  'invoices',
  'orders shipped to Canada with duties',
  judge((f) => (f.state === 'BC' ? 2 : 0)),
);
q(
  'invoices',
  'invoices paid with amex 1006',
  judge((f) =>
    f.payment.includes('American Express ending 1006')
      ? ['paid', 'refunded', 'partially_refunded', 'disputed'].includes(f.status)
        ? 2
        : 1
      : 0,
  ),
);
q(
  'invoices',
  'tax exempt school order compasses and binoculars',
  judge((f) => (f.custId === 'CUST-30311' ? 2 : 0)),
);
q(
  'invoices',
  'search and rescue team radios',
  judge((f) => (f.custId === 'CUST-30420' ? 2 : 0)),
);
q(
  'invoices',
  'Trailfinder 66i purchases',
  judge((f) => (has(f, 'RL-GP-0067') ? 2 : 0)),
);
q(
  'invoices',
  'duplicate charge reversed',
  judge((f) => (/duplicate charge/.test(f.note) ? 2 : 0)),
);
q(
  'invoices',
  'boots exchanged for half a size larger',
  judge((f) => (/half a size larger/.test(f.note) ? 2 : 0)),
);
q(
  'invoices',
  'WildEye cellular trail cameras refunded, no LTE connection',
  judge((f) => (has(f, 'RL-CM-2450') && f.status === 'refunded' ? 2 : has(f, 'RL-CM-2450') ? 1 : 0)),
);

// A word-for-word copy of a judged document gets the same grade.
for (const q of QUERIES) {
  for (const x of docs) {
    const orig = x.metadata.duplicate_of;
    if (orig && q.relevant[orig] && !q.relevant[x.id]) q.relevant[x.id] = q.relevant[orig];
  }
}

const ids = new Set(docs.map((x) => x.id));
if (ids.size !== docs.length) throw new Error('duplicate document ids');
for (const q of QUERIES) {
  for (const id of Object.keys(q.relevant)) if (!ids.has(id)) throw new Error(`${q.id}: unknown document ${id}`);
  if (!Object.keys(q.relevant).length) throw new Error(`${q.id}: no relevant documents`);
}
mkdirSync(join(root, 'evals'), { recursive: true });
writeFileSync(join(here, 'corpus.jsonl'), docs.map((x) => JSON.stringify(x)).join('\n') + '\n');
const header = {
  embctl_judged_set: 1,
  key: 'document_id',
  name: 'demo',
  description:
    'Judged queries for the Ridgeline Outfitters demo corpus (examples/demo/corpus.jsonl): products, support, invoices, policies. Grades: 2 = answers the query, 1 = partially relevant.',
};
writeFileSync(
  join(root, 'evals', 'demo.judged.jsonl'),
  [header, ...QUERIES].map((x) => JSON.stringify(x)).join('\n') + '\n',
);
const bySeg = {};
for (const x of docs) bySeg[x.metadata.segment] = (bySeg[x.metadata.segment] ?? 0) + 1;
const qBySeg = {};
for (const q of QUERIES) qBySeg[q.segment] = (qBySeg[q.segment] ?? 0) + 1;
console.log(`corpus: ${docs.length} documents`, bySeg);
console.log(`judged: ${QUERIES.length} queries`, qBySeg);
