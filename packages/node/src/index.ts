/** @module placeholder index; filled by its issue. */
export {};
