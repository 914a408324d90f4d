#!/usr/bin/env node
console.log('kerbside');
