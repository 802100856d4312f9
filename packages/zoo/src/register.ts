/**
 * Importing the zoo registers every custom layer, initializer and activation class the models
 * use (each package registers its own classes on import), so `tf.loadLayersModel` can rebuild
 * a saved zoo model.
 */
import '@gradflow/activations';
import '@gradflow/initializers';
import '@gradflow/normalization';
import '@gradflow/residual';
import '@gradflow/dense';
import '@gradflow/unet';
import '@gradflow/recurrent';
