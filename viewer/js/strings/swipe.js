// The texts of swipe.js in German and English.

export default {
  de: {
    modeSwipe: "Wischen",
    swipeDivider: "Trennlinie zwischen Basis und Szenario",
    swipeValue: "{percent} % Basis links",
  },
  en: {
    modeSwipe: "Swipe",
    swipeDivider: "Divider between baseline and scenario",
    swipeValue: "{percent} % baseline on the left",
  },
};
